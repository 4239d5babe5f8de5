/// Why ``RetryPolicy`` declined to retry.
public enum RetryStopReason: Sendable, Hashable {
    /// The failure is not safe or not useful to retry for the call's ``CallSafety``.
    case notRetryable
    /// ``RetryPolicy/maxRetries`` retries were already made.
    case retriesExhausted
    /// The ``RetryBudget`` is depleted: too many recent failures, the dependency is likely down.
    case budgetExhausted
    /// The call's deadline leaves no time for the wait the retry needs.
    case deadline
    /// The server asked not to be retried.
    case serverPushback
}
