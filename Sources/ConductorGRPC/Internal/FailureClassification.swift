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

    /// What the attempt tells the endpoint's circuit breaker. Connection-level failures (connect
    /// refused, connection lost, keepalive timeout) are left to the pool's connection state and
    /// reconnect backoff, which skip the endpoint until it accepts connections again; counting them
    /// here too would keep a restarted conductor out of rotation for the whole open time. A stream
    /// the server refused (REFUSED_STREAM, above a GOAWAY) was not processed: flow control, not a fault.
    static func breakerOutcome(of failure: GRPCUnaryResponse.Failure) -> CircuitBreakerOutcome {
        if failure.connectionLevel || failure.provablyNotProcessed { return .ignored }
        switch failure.status.code {
        case .unavailable, .deadlineExceeded, .internalError, .resourceExhausted: return .failure
        default: return .ignored
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
