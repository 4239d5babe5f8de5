/// What may happen if a call is executed more than once; decides which failures may be retried.
public enum CallSafety: Sendable, Hashable, CaseIterable {
    /// Executing it twice is harmless (reads, health checks).
    case idempotent
    /// A write the server deduplicates (e.g. by event hash): at-least-once delivery, applied once.
    case deduplicatedWrite
    /// A write that may be applied twice if it is repeated after reaching the server.
    case nonIdempotentWrite

    /// Whether a call of this safety class may be retried after `failure`.
    ///
    /// | failure | idempotent | deduplicated write | non-idempotent write |
    /// | --- | --- | --- | --- |
    /// | `notSent` | yes | yes | yes |
    /// | `unavailable` | yes | yes | no |
    /// | `resourceExhausted`, `aborted`, `attemptDeadlineExceeded` | yes | no | no |
    /// | `permanent` | no | no | no |
    public func allowsRetry(after failure: FailureClass) -> Bool {
        switch (failure, self) {
        case (.notSent, _):
            true
        case (.permanent, _):
            false
        case (.unavailable, .idempotent), (.unavailable, .deduplicatedWrite):
            true
        case (.resourceExhausted, .idempotent), (.aborted, .idempotent), (.attemptDeadlineExceeded, .idempotent):
            true
        case (_, .deduplicatedWrite), (_, .nonIdempotentWrite):
            false
        }
    }
}
