import ConductorGRPC
import Foundation
import Logging
import ServiceLifecycle

/// Submits a `relay.heartbeat` event every `interval`, so that an idle relay still exercises the
/// conductor and its dashboards (request rate, latency, breaker state) never go blank.
///
/// It is a `Service` of the same group as the client and the HTTP server. The group shuts
/// services down in reverse order, and this one is last in it, so on SIGTERM the heartbeat stops
/// first, the HTTP server drains next, and the client, which both of them call, closes last.
struct Heartbeat: Service {
    let conductor: any ConductorService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var beats = 0
        while true {
            // Wakes early on graceful shutdown (or cancellation), which ends the loop below.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }

            beats += 1
            // Distinct content each time (across restarts too): the conductor identifies events by
            // their content hash and would answer a repeated one with the first one's receipt.
            let payload = "beat \(beats) at \(Int(Date().timeIntervalSince1970))"
            let event = ConductorEvent(eventType: "relay.heartbeat", epoch: 0, payload: Array(payload.utf8))
            do {
                let receipt = try await conductor.submit(event)
                logger.debug("heartbeat submitted", metadata: ["beat": "\(beats)", "event_hash": "\(receipt.eventHash)"])
            } catch {
                // Not fatal, and not a warning: the next beat tries again, and the client itself
                // warns about an unreachable conductor (rate-limited).
                logger.info("heartbeat failed", metadata: ["beat": "\(beats)", "error": "\(error)"])
            }
        }
    }
}
