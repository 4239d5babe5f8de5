/// The position of a ``CircuitBreaker`` in its state machine.
public enum CircuitBreakerState: Sendable, Hashable, CustomStringConvertible {
    /// Calls flow; failures are counted.
    case closed
    /// Calls are rejected without being attempted, until the open duration has elapsed
    /// (or, when isolated, until ``CircuitBreaker/reset()``).
    case open
    /// A limited number of probe calls test whether the dependency has recovered.
    case halfOpen

    /// `"closed"`, `"open"` or `"half-open"`.
    public var description: String {
        switch self {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half-open"
        }
    }
}
