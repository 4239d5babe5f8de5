import BridgeResilience
import Logging

/// Runs one unary call to completion: one deadline for the whole call, a connection from the
/// pool (whose picker honours each endpoint's circuit breaker and health), the exchange, and
/// retries with full-jitter backoff within the endpoint's retry budget, preferring another
/// endpoint for each retry. What is retryable and how long to wait is decided in
/// BridgeResilience; this type only wires it to the transport.
struct ResilientCaller: Sendable {
    let pool: ChannelPool
    let policy: RetryPolicy
    let configuration: ConductorConfiguration
    let clock = SystemResilienceClock()
    let logger: Logger

    /// Performs `method` with the framed request `body`; returns the response message bytes and
    /// the endpoint that answered.
    func call(
        _ method: ConductorMethod,
        body: [UInt8],
        safety: CallSafety,
        timeout: Duration?
    ) async throws(ConductorError) -> (message: [UInt8], endpoint: ConductorEndpoint) {
        let started = clock.now()
        do {
            let message = try await attempts(method, body: body, safety: safety, timeout: timeout, started: started)
            pool.metrics.request(method, code: .ok, circuitOpen: false, duration: started.duration(to: clock.now()))
            return message
        } catch {
            pool.metrics.request(method, code: error.code, circuitOpen: error.kind == .circuitOpen, duration: started.duration(to: clock.now()))
            throw error
        }
    }

    private func attempts(
        _ method: ConductorMethod,
        body: [UInt8],
        safety: CallSafety,
        timeout: Duration?,
        started: MonotonicInstant
    ) async throws(ConductorError) -> (message: [UInt8], endpoint: ConductorEndpoint) {
        let callTimeout = min(timeout ?? configuration.timeout, configuration.timeout)
        let deadline = started + callTimeout
        var attempts = 0
        var transparentRetries = 0
        var previous: PoolEndpoint?
        while true {
            let remaining = clock.now().duration(to: deadline)
            guard remaining > .zero else {
                throw ConductorError(kind: .deadlineExceeded, code: .deadlineExceeded,
                                     message: "deadline of \(callTimeout) exceeded before attempt \(attempts + 1)",
                                     method: method, endpoint: previous?.endpoint.description, attempts: attempts, isRetryable: true)
            }
            var lease: PoolLease
            do {
                lease = try await pool.checkout(avoiding: previous, deadline: deadline, method: method)
            } catch {
                var error = error
                error.attempts = attempts
                if error.endpoint == nil { error.endpoint = previous?.endpoint.description }
                throw error
            }
            attempts += 1
            let endpoint = lease.endpoint
            previous = endpoint
            let response = await exchange(method, body: body, on: lease, timeout: remaining, previousAttempts: attempts - 1)
            let failure: GRPCUnaryResponse.Failure
            switch response.result {
            case .success(let message):
                pool.checkin(lease, failed: false)
                endpoint.breaker.record(.success, for: lease.permit)
                endpoint.budget.recordSuccess()
                return (message, endpoint.endpoint)
            case .failure(let attemptFailure):
                pool.checkin(lease, failed: true)
                failure = attemptFailure
            }
            if failure.status.code == .cancelled && Task.isCancelled {
                endpoint.breaker.record(.ignored, for: lease.permit)
                throw ConductorError(failure, method: method, endpoint: endpoint.endpoint.description, attempts: attempts,
                                     cancelledByCaller: true)
            }
            endpoint.breaker.record(FailureClassification.breakerOutcome(of: failure), for: lease.permit)
            let timeLeft = clock.now().duration(to: deadline)
            let failureClass = FailureClassification.retryClass(of: failure, callDeadlinePassed: timeLeft <= .zero)
            // Losing a connection, or a stream the server refused unprocessed, says nothing about the
            // service's load: it does not draw on the retry budget (server answers do).
            let budget = failure.connectionLevel || failure.provablyNotProcessed ? nil : endpoint.budget
            let decision = policy.decision(
                after: failureClass, safety: safety, attempts: attempts, transparentRetries: transparentRetries,
                timeRemaining: timeLeft, pushback: FailureClassification.pushback(of: failure), budget: budget)
            switch decision {
            case .retry(let delay, let transparent):
                if transparent { transparentRetries += 1 }
                pool.metrics.retry(method, reason: transparent ? "not_processed" : failure.status.code.name)
                logger.debug("retrying", metadata: [
                    "method": "\(method.rawValue)", "endpoint": "\(endpoint.endpoint)", "attempt": "\(attempts)",
                    "status": "\(failure.status)", "delay": "\(delay)",
                ])
                if delay > .zero {
                    do { try await Task.sleep(for: delay) } catch {
                        throw ConductorError(kind: .cancelled, code: .cancelled, message: "call cancelled while waiting to retry",
                                             method: method, endpoint: endpoint.endpoint.description, attempts: attempts)
                    }
                }
            case .stop(let reason):
                var finalError = ConductorError(failure, method: method, endpoint: endpoint.endpoint.description, attempts: attempts)
                if reason == .budgetExhausted {
                    finalError.message += " (retry budget exhausted: the conductor is failing too often to retry)"
                }
                throw finalError
            }
        }
    }

    private func exchange(
        _ method: ConductorMethod,
        body: [UInt8],
        on lease: PoolLease,
        timeout: Duration,
        previousAttempts: Int
    ) async -> GRPCUnaryResponse {
        let headers = lease.endpoint.requestHeads.headers(path: method.path, timeout: timeout, previousAttempts: previousAttempts)
        let stream = await lease.connection.exchange(
            headers: headers, body: body, timeout: timeout,
            maximumResponseBytes: configuration.maxReceiveMessageBytes + GRPCMessageFramer.prefixLength)
        return GRPCResponseInterpreter.interpret(stream, maximumMessageLength: configuration.maxReceiveMessageBytes)
    }
}
