/// Proof that a ``CircuitBreaker`` admitted a call; hand it back with the call's outcome.
///
/// Report every permit exactly once through ``CircuitBreaker/record(_:for:)``, on every path
/// (success, failure, cancellation): a half-open probe that is never reported keeps its probe slot.
public struct CircuitBreakerPermit: Sendable, Hashable {
    /// Whether the call is a half-open probe whose outcome decides if the breaker closes.
    public let isProbe: Bool

    /// The breaker's generation when the permit was issued; outcomes of older generations are ignored.
    let generation: UInt64
}
