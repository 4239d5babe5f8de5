import BridgeResilience

/// The errors of a call the pool cannot place, worded for the operator.
extension PoolStateMachine {
    func saturated(_ method: ConductorMethod) -> ConductorError {
        ConductorError(
            kind: .poolSaturated, code: .resourceExhausted,
            message: "every connection is at the server's concurrent stream limit and \(waiterCount) calls already wait (CONDUCTOR_MAX_PENDING_CALLS=\(configuration.maxPendingCalls))",
            method: method, isRetryable: true)
    }

    func waitTimedOut(_ request: Request) -> ConductorError {
        let connecting = endpoints.contains { endpoint in endpoint.slots.contains { $0.phase == .connecting } }
        let what = connecting ? "a connection to become ready" : "a free stream (every connection at the server's limit)"
        return ConductorError(kind: .deadlineExceeded, code: .deadlineExceeded,
                              message: "deadline exceeded while waiting for \(what)", method: request.method, isRetryable: true)
    }

    /// Why no endpoint can take the call: not serving, breaker open, or unreachable.
    func unavailable(_ request: Request, candidates: [Int], now: MonotonicInstant) -> ConductorError {
        if endpoints.isEmpty {
            return ConductorError(kind: .connectionFailed, code: .unavailable,
                                  message: "no endpoint address is known (dns:/// names resolved to nothing)",
                                  method: request.method, isRetryable: true)
        }
        if candidates.isEmpty {
            return ConductorError(kind: .connectionFailed, code: .unavailable,
                                  message: "no endpoint is serving: health checks report NOT_SERVING for \(describe(endpoints.indices))",
                                  method: request.method, isRetryable: true)
        }
        let blocked = candidates.filter { endpoints[$0].breakerBlocks(at: now) && !endpoints[$0].isUnreachable }
        if !blocked.isEmpty {
            var when = "when probed again"
            if let soonest = blocked.compactMap({ endpoints[$0].breaker.snapshot.openUntil }).min() {
                let wait = now.duration(to: soonest)
                let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
                when = "in \((max(0, seconds) * 10).rounded() / 10) s"
            }
            return ConductorError(
                kind: .circuitOpen, code: .unavailable,
                message: "circuit breaker open for \(describe(blocked)) after repeated failures; no request sent; next probe \(when)",
                method: request.method, endpoint: blocked.count == 1 ? endpoints[blocked[0]].shared.endpoint.description : nil,
                isRetryable: true)
        }
        let errors = candidates.flatMap { e in endpoints[e].slots.compactMap(\.lastError) }
        let unreachable = candidates.filter { endpoints[$0].isUnreachable }
        let breakerNote = unreachable.isEmpty ? "" : " (circuit breaker open until a connection succeeds)"
        return ConductorError(
            kind: .connectionFailed, code: .unavailable,
            message: "every endpoint is unreachable (waiting for reconnect backoff)\(breakerNote): " + (errors.first ?? describe(candidates)),
            method: request.method, endpoint: candidates.count == 1 ? endpoints[candidates[0]].shared.endpoint.description : nil,
            isRetryable: true)
    }

    private func describe(_ indices: some Sequence<Int>) -> String {
        indices.map { endpoints[$0].shared.endpoint.description }.joined(separator: ", ")
    }
}
