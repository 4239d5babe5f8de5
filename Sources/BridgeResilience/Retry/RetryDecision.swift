/// What to do after a failed attempt, as decided by ``RetryPolicy``.
public enum RetryDecision: Sendable, Hashable {
    /// Wait `after`, then try again.
    ///
    /// A `transparent` retry repeats a request that never reached the server: it is not counted as
    /// an attempt, consumes no retry-budget token, and `after` is zero (retry at once, preferably
    /// on another channel).
    case retry(after: Duration, transparent: Bool)
    /// Give up and report the failure.
    case stop(RetryStopReason)
}
