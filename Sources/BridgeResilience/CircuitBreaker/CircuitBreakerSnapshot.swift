/// A consistent view of a ``CircuitBreaker``'s state, for metrics, logs and tests.
public struct CircuitBreakerSnapshot: Sendable, Hashable {
    /// The current state. An open breaker whose open duration has elapsed still reads `.open`
    /// until the next ``CircuitBreaker/tryAcquire()`` turns it half-open.
    public let state: CircuitBreakerState
    /// Failures recorded in a row since the last success or close.
    public let consecutiveFailures: Int
    /// When an open breaker will admit a probe; `nil` unless open, and `nil` while isolated.
    public let openUntil: MonotonicInstant?
    /// Whether ``CircuitBreaker/isolate()`` holds the breaker open until ``CircuitBreaker/reset()``.
    public let isIsolated: Bool
    /// Half-open probes admitted and not yet reported.
    public let probesInFlight: Int
}
