/// A change of a ``CircuitBreaker``'s state, reported to its `onTransition` callback.
public struct CircuitBreakerTransition: Sendable, Hashable {
    /// Why a breaker changed state.
    public enum Reason: Sendable, Hashable {
        /// ``CircuitBreakerConfiguration/failureThreshold`` consecutive failures while closed.
        case consecutiveFailures
        /// The ``CircuitBreakerConfiguration/failureRate`` rule tripped while closed.
        case failureRate
        /// The open duration elapsed and a call arrived, so the breaker admitted a probe.
        case openDurationElapsed
        /// A half-open probe succeeded.
        case probeSucceeded
        /// A half-open probe failed.
        case probeFailed
        /// ``CircuitBreaker/isolate()`` forced the breaker open.
        case isolated
        /// ``CircuitBreaker/reset()`` forced the breaker closed.
        case reset
        /// No connection to the dependency could be established (it is unreachable).
        case unreachable
        /// A connection to an unreachable dependency was established again.
        case reachable
    }

    /// The state before the transition.
    public let from: CircuitBreakerState
    /// The state after the transition. It equals ``from`` only when an open breaker is isolated.
    public let to: CircuitBreakerState
    /// When the transition happened, on the breaker's clock.
    public let at: MonotonicInstant
    /// What caused the transition.
    public let reason: Reason
}
