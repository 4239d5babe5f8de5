/// What a call admitted by a ``CircuitBreaker`` says about the health of its dependency.
public enum CircuitBreakerOutcome: Sendable, Hashable {
    /// The dependency answered properly; resets the consecutive-failure count, closes a half-open breaker.
    case success
    /// The dependency is unhealthy (transport error, unavailable, timed out, overloaded…).
    case failure
    /// The result says nothing about health (e.g. "not found", or the caller cancelled).
    ///
    /// It changes no counter; an ignored probe frees its probe slot.
    case ignored
}
