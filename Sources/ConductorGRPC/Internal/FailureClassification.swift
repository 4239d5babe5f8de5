import BridgeResilience

/// How a failed attempt counts for the retry policy and for the circuit breaker. The rules come
/// from DESIGN "Resilience semantics": only transport trouble and the overload/unavailable codes
/// say something about the endpoint's health; NOT_FOUND or INVALID_ARGUMENT do not.
enum FailureClassification {
    /// The retry class of a failure; `callDeadlinePassed` separates the call's own deadline (stop)
    /// from a server that gave up on its own (retryable for reads).
    static func retryClass(of failure: GRPCUnaryResponse.Failure, callDeadlinePassed: Bool) -> FailureClass {
        if failure.provablyNotProcessed { return .notSent }
        switch failure.status.code {
        case .unavailable: return .unavailable
        case .resourceExhausted: return .resourceExhausted
        case .aborted: return .aborted
        case .deadlineExceeded: return callDeadlinePassed ? .permanent : .attemptDeadlineExceeded
        default: return .permanent
        }
    }

    /// What the attempt tells the endpoint's circuit breaker.
    static func breakerOutcome(of failure: GRPCUnaryResponse.Failure) -> CircuitBreakerOutcome {
        switch failure.status.code {
        case .unavailable, .deadlineExceeded, .internalError, .resourceExhausted: .failure
        default: .ignored
        }
    }

    /// The server's `grpc-retry-pushback-ms` advice in the policy's terms.
    static func pushback(of failure: GRPCUnaryResponse.Failure) -> ServerPushback {
        switch failure.retryPushback {
        case .none: .none
        case .retryAfter(let delay): .delay(delay)
        case .doNotRetry: .stop
        }
    }
}
