/// The answer of ``CircuitBreaker/tryAcquire()``.
public enum CircuitBreakerAdmission: Sendable, Hashable {
    /// The call may proceed; report its outcome with the permit.
    case admitted(CircuitBreakerPermit)

    /// The call must not be attempted.
    ///
    /// `retryAt` is when the breaker will next admit a probe, or `nil` when that is unknown:
    /// the breaker is isolated, or half-open with its probe slots taken.
    case rejected(retryAt: MonotonicInstant?)

    /// The permit when the call was admitted, otherwise `nil`.
    public var permit: CircuitBreakerPermit? {
        if case .admitted(let permit) = self {
            return permit
        }
        return nil
    }
}
