import BridgeResilience
import Logging

/// Delivers the outbox, run by ``ConductorClient/run()``: the oldest events go out in
/// `SubmitEventsBatch` calls of up to ``batchSize`` through the client (retries, budget, breakers,
/// failover), and are deleted once their receipts are in. While the conductor cannot be reached it
/// waits, doubling the pause from 50 ms up to 5 s, and starts again at once when a call succeeds.
///
/// A batch is all-or-nothing, so when the conductor rejects one as `INVALID_ARGUMENT` the events are
/// sent again one by one, in order: those rejected go to the dead letters, the others are delivered.
/// Other failures that retrying cannot fix (a wrong token, a missing permission) are not the events'
/// fault: they are retried with the pause, and logged as a warning (rate-limited), not dead-lettered.
struct OutboxDeliverer: Sendable {
    let outbox: ConductorOutbox
    let client: ConductorClient
    let clock: any CallClock
    let logger: Logger

    /// Events per `SubmitEventsBatch`.
    static let batchSize = 100
    /// Event bytes per `SubmitEventsBatch` (at least one event goes): well under the 4 MiB a gRPC
    /// server accepts by default, so that large events do not make every batch fail.
    static let batchBytes = 1 << 20
    private static let firstPause: Duration = .milliseconds(50)
    private static let longestPause: Duration = .seconds(5)

    /// Delivers until the task is cancelled or the client shuts down.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            outbox.publishGauges()
            do throws(ConductorError) {
                let pending = Self.withinBatchBytes(try await outbox.oldest(limit: Self.batchSize))
                if pending.isEmpty {
                    await outbox.waitForEvents()
                    continue
                }
                try await deliver(pending)
                failures = 0
            } catch {
                if Task.isCancelled || error.kind == .shutDown { return }
                failures += 1
                report(error, failures: failures)
                let pause = min(Self.longestPause, Self.firstPause * (1 << min(failures - 1, 10)))
                do { try await clock.sleep(until: clock.now() + pause) } catch { return }
            }
        }
    }

    /// The longest prefix of `pending` within ``batchBytes`` (never empty when `pending` is not).
    static func withinBatchBytes(_ pending: [(row: OutboxStore.Row, event: ConductorEvent?)]) -> [(row: OutboxStore.Row, event: ConductorEvent?)] {
        var bytes = 0
        var count = 0
        for item in pending {
            bytes += item.row.message.count
            if count > 0 && bytes > batchBytes { break }
            count += 1
        }
        return Array(pending.prefix(count))
    }

    /// One batch; throws the failure that leaves events queued.
    private func deliver(_ pending: [(row: OutboxStore.Row, event: ConductorEvent?)]) async throws(ConductorError) {
        if let unreadable = pending.first(where: { $0.event == nil }) {
            try await outbox.deadLetter(unreadable.row, error: ConductorError(
                kind: .outboxFailed, code: .dataLoss, message: "the stored event does not decode as a ConductorEvent"))
            return
        }
        let events = pending.compactMap(\.event)
        do {
            let receipts = try await client.submit(batch: events)
            try await outbox.delivered(pending.map(\.row), receipts: receipts)
        } catch where error.code == .invalidArgument && error.kind == .rpcFailed {
            // Options of its own keep each resend out of submit coalescing, which would make every
            // one of them wait for the window.
            let alone = ConductorCallOptions(timeout: client.configuration.timeout)
            for (row, event) in pending {
                do {
                    let receipt = try await client.submit(event!, options: alone)
                    try await outbox.delivered([row], receipts: [receipt])
                } catch where error.code == .invalidArgument && error.kind == .rpcFailed {
                    try await outbox.deadLetter(row, error: error)
                    logger.warning("the conductor rejected an outbox event; it was moved to the dead letters", metadata: [
                        "sequence": "\(row.id)", "event_type": "\(event!.eventType)", "reason": "\(error.message)",
                    ])
                }
            }
        }
    }

    private func report(_ error: ConductorError, failures: Int) {
        let metadata: Logger.Metadata = ["error": "\(error)", "outbox_events": "\(outbox.statistics.events)"]
        if error.isRetryable || [.connectionFailed, .circuitOpen, .deadlineExceeded, .poolSaturated].contains(error.kind) {
            if failures == 1 { logger.info("outbox delivery paused: the conductor cannot take events now", metadata: metadata) }
        } else if failures == 1 {
            logger.warning("outbox delivery fails for a reason retrying cannot fix; events stay queued", metadata: metadata)
        }
    }
}
