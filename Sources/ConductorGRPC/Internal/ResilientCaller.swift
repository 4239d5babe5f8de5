import BridgeResilience
import Logging

/// Runs one unary call to completion: deadline for the whole call, circuit breaker admission,
/// the exchange on the channel's connection, and retries with full-jitter backoff within the
/// retry budget. Everything that decides (what is retryable, how long to wait, when the breaker
/// opens) lives in BridgeResilience; this type only wires it to the transport.
struct ResilientCaller: Sendable {
    let channel: GRPCChannel
    let policy: RetryPolicy
    let configuration: ConductorConfiguration
    let clock: SystemResilienceClock
    let logger: Logger

    /// Performs `method` with the framed request `body`; returns the response message bytes.
    func call(
        _ method: ConductorMethod,
        body: [UInt8],
        safety: CallSafety,
        timeout: Duration?
    ) async throws(ConductorError) -> [UInt8] {
        let callTimeout = min(timeout ?? configuration.timeout, configuration.timeout)
        let deadline = clock.now() + callTimeout
        var attempts = 0
        var transparentRetries = 0
        while true {
            let remaining = clock.now().duration(to: deadline)
            guard remaining > .zero else {
                throw error(.deadlineExceeded, "deadline of \(callTimeout) exceeded before attempt \(attempts + 1)", method, attempts)
            }
            guard case .admitted(let permit) = channel.breaker.tryAcquire() else {
                throw circuitOpenError(method, attempts)
            }
            attempts += 1
            let failure: GRPCUnaryResponse.Failure
            switch await attempt(method, body: body, timeout: remaining, previousAttempts: attempts - 1).result {
            case .success(let message):
                channel.breaker.record(.success, for: permit)
                channel.budget.recordSuccess()
                return message
            case .failure(let attemptFailure):
                failure = attemptFailure
            }
            if failure.status.code == .cancelled && Task.isCancelled {
                channel.breaker.record(.ignored, for: permit)
                throw ConductorError(failure, method: method, endpoint: channel.endpoint.description, attempts: attempts)
            }
            channel.breaker.record(FailureClassification.breakerOutcome(of: failure), for: permit)
            let timeLeft = clock.now().duration(to: deadline)
            let decision = policy.decision(
                after: FailureClassification.retryClass(of: failure, callDeadlinePassed: timeLeft <= .zero),
                safety: safety, attempts: attempts, transparentRetries: transparentRetries,
                timeRemaining: timeLeft, pushback: FailureClassification.pushback(of: failure),
                budget: channel.budget)
            switch decision {
            case .retry(let delay, let transparent):
                if transparent { transparentRetries += 1 }
                logger.debug("retrying", metadata: [
                    "method": "\(method.rawValue)", "endpoint": "\(channel.endpoint)", "attempt": "\(attempts)",
                    "status": "\(failure.status)", "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
                if delay > .zero {
                    do { try await Task.sleep(for: delay) } catch {
                        throw self.error(.cancelled, "call cancelled while waiting to retry", method, attempts)
                    }
                }
            case .stop(let reason):
                var finalError = ConductorError(failure, method: method, endpoint: channel.endpoint.description, attempts: attempts)
                if reason == .budgetExhausted {
                    finalError.message += " (retry budget exhausted: the conductor is failing too often to retry)"
                }
                throw finalError
            }
        }
    }

    private func attempt(_ method: ConductorMethod, body: [UInt8], timeout: Duration, previousAttempts: Int) async -> GRPCUnaryResponse {
        let headers = channel.requestHeads.headers(path: method.path, timeout: timeout, previousAttempts: previousAttempts)
        let stream = await channel.connection().exchange(
            headers: headers, body: body, timeout: timeout,
            maximumResponseBytes: configuration.maxReceiveMessageBytes + GRPCMessageFramer.prefixLength)
        return GRPCResponseInterpreter.interpret(stream, maximumMessageLength: configuration.maxReceiveMessageBytes)
    }

    private func circuitOpenError(_ method: ConductorMethod, _ attempts: Int) -> ConductorError {
        let snapshot = channel.breaker.snapshot
        var when = "when it is probed again"
        if let openUntil = snapshot.openUntil {
            let wait = clock.now().duration(to: openUntil)
            let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
            when = "in \(Double(Int(max(0, seconds) * 10)) / 10) s"
        }
        return ConductorError(
            kind: .circuitOpen, code: .unavailable,
            message: "circuit breaker for \(channel.endpoint) is open after repeated failures; no request sent; it will be tried again \(when)",
            method: method, endpoint: channel.endpoint.description, attempts: attempts, isRetryable: true)
    }

    private func error(_ kind: ConductorError.Kind, _ message: String, _ method: ConductorMethod, _ attempts: Int) -> ConductorError {
        let code: GRPCStatusCode = kind == .cancelled ? .cancelled : .deadlineExceeded
        return ConductorError(kind: kind, code: code, message: message, method: method,
                              endpoint: channel.endpoint.description, attempts: attempts, isRetryable: kind == .deadlineExceeded)
    }
}
