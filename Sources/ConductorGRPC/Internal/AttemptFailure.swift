import GRPCWire
import BridgeResilience

/// A failed attempt, classified once: everything the retry loop, the pool, the circuit breaker,
/// the retry budget and the error reported to the caller read about it.
///
/// The rules come from DESIGN "Resilience semantics":
/// - **Retry class.** A request that provably never reached the server application is `.notSent`;
///   UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED are their namesakes; DEADLINE_EXCEEDED is
///   retryable only while the call's own deadline has not passed; everything else is permanent.
///   Once the server committed to the attempt (response headers before the status), nothing is
///   retried (gRPC A6).
/// - **Breaker.** Only the server's ill health counts: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL and
///   RESOURCE_EXHAUSTED answers. Connection trouble is the pool's business (reconnect backoff, and
///   unreachable endpoints open the breaker there); streams the server turned away unanswered
///   (REFUSED_STREAM, ENHANCE_YOUR_CALM before headers, above a GOAWAY) are flow control.
/// - **Budget.** Losing a connection, or a stream turned away, says nothing about the service's
///   load: only server answers draw on the retry budget.
struct AttemptFailure: Sendable {
    let status: GRPCStatus
    let retryClass: FailureClass
    let breakerOutcome: CircuitBreakerOutcome
    let drawsOnBudget: Bool
    let pushback: ServerPushback
    /// REFUSED_STREAM on a connection: the pool lowers its stream limit.
    let refusedStream: Bool
    /// The request never reached the server application (safe anywhere).
    let notProcessed: Bool
    /// The connection failed or could not be made, rather than the server answering.
    let connectionLevel: Bool
    /// The trailers the server sent with the status (empty when the transport ended the attempt).
    let trailers: [(name: String, value: String)]

    init(_ failure: GRPCUnaryResponse.Failure, trailers: [(name: String, value: String)], callDeadlinePassed: Bool) {
        status = failure.status
        self.trailers = trailers
        refusedStream = failure.refusedStream
        notProcessed = failure.provablyNotProcessed
        connectionLevel = failure.connectionLevel
        if failure.provablyNotProcessed {
            retryClass = .notSent
        } else if failure.committed {
            retryClass = .permanent
        } else {
            switch failure.status.code {
            case .unavailable: retryClass = .unavailable
            case .resourceExhausted: retryClass = .resourceExhausted
            case .aborted: retryClass = .aborted
            case .deadlineExceeded: retryClass = callDeadlinePassed ? .permanent : .attemptDeadlineExceeded
            default: retryClass = .permanent
            }
        }
        let quiet = failure.connectionLevel || failure.provablyNotProcessed || failure.turnedAway
        switch failure.status.code {
        case .unavailable, .deadlineExceeded, .internalError, .resourceExhausted: breakerOutcome = quiet ? .ignored : .failure
        default: breakerOutcome = .ignored
        }
        drawsOnBudget = !quiet
        switch failure.retryPushback {
        case .none: pushback = .none
        case .retryAfter(let delay): pushback = .delay(delay)
        case .doNotRetry: pushback = .stop
        }
    }

    /// The error the caller sees when this was the last attempt; `cancelledByCaller` tells a
    /// CANCELLED of the caller's own making from one the server sent.
    func error(method: ConductorMethod, endpoint: String, attempts: Int, cancelledByCaller: Bool = false) -> ConductorError {
        let kind: ConductorError.Kind
        switch status.code {
        case .deadlineExceeded: kind = .deadlineExceeded
        case .cancelled where cancelledByCaller: kind = .cancelled
        case .unavailable where notProcessed || connectionLevel: kind = .connectionFailed
        default: kind = .rpcFailed
        }
        let retryable: Bool
        switch status.code {
        case .unavailable, .resourceExhausted, .aborted, .deadlineExceeded: retryable = true
        default: retryable = false
        }
        var error = ConductorError(kind: kind, code: ConductorError.Code(status.code), message: status.message, method: method,
                                   endpoint: endpoint, attempts: attempts, isRetryable: retryable)
        if !trailers.isEmpty { error.trailers = ConductorMetadata(received: trailers) }
        return error
    }
}
