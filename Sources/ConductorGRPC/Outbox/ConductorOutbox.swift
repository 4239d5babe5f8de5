import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LockedState
import Metrics

/// The durable outbox of a ``ConductorClient`` (`CONDUCTOR_OUTBOX_PATH`): events accepted by
/// ``ConductorClient/submitDurably(_:)`` are committed to a local SQLite database before the call
/// returns, and ``ConductorClient/run()`` delivers them — oldest first, in `SubmitEventsBatch`
/// calls through the client's retries, budget, breakers and failover — deleting each only once its
/// receipt has arrived. Events survive conductor outages and process restarts.
///
/// **Guarantee:** at-least-once delivery, in acceptance order within one process. An event can
/// reach the conductor twice when the process stops (or an answer is lost) after the conductor
/// applied a batch and before the outbox deleted it; the conductor deduplicates by content hash,
/// so a redelivery yields the same receipt. An event the conductor rejects as invalid
/// (`INVALID_ARGUMENT`) is moved to the dead letters with the conductor's message
/// (``deadLetters(limit:)``) and does not hold back the events behind it.
///
/// Commits are grouped: durable submits that arrive while a commit is being written share the
/// next one (one fsync for all of them).
public final class ConductorOutbox: Sendable {
    /// What the outbox holds and has done since the process started.
    public struct Statistics: Sendable, Hashable {
        /// Events accepted and not yet delivered.
        public var events: Int
        /// Their protobuf-encoded size in bytes.
        public var bytes: Int
        /// How long ago the oldest of them was accepted (nil when empty).
        public var oldestEventAge: Duration?
        /// Events in the dead letters.
        public var deadLetters: Int
        /// Events delivered since the process started.
        public var delivered: Int
    }

    /// An event the conductor rejected, with what it said.
    public struct DeadLetter: Sendable {
        /// The event's position in acceptance order.
        public var sequence: Int64
        /// The event.
        public var event: ConductorEvent
        /// The conductor's status.
        public var code: ConductorError.Code
        /// The conductor's message.
        public var message: String
    }

    private struct Admission {
        var message: [UInt8]
        var promise: ReceiptPromise?
        var continuation: CheckedContinuation<Result<Int64, ConductorError>, Never>
    }

    private struct State {
        var admitted: [Admission] = []
        var commitScheduled = false
        /// Committed and admitted-but-uncommitted events (the bounds apply to both).
        var events = 0
        var bytes = 0
        var oldestAcceptedAt: Double?
        var deadLetters = 0
        var delivered = 0
        var promises: [Int64: ReceiptPromise] = [:]
        var eventWaiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let store: OutboxStore
    /// Every database call runs here, one at a time (SQLite's connection is not shared across threads).
    private let queue = DispatchQueue(label: "conductor.outbox")
    private let state: Locked<State>
    private let maxEvents: Int
    private let maxBytes: Int
    private let metrics: OutboxMetrics

    /// Opens the outbox at `configuration.outboxPath`; an unusable path or file is a configuration error.
    init(configuration: ConductorConfiguration, path: String, metricsFactory: any MetricsFactory) throws(ConductorError) {
        do {
            store = try OutboxStore(path: path)
            let totals = try store.totals()
            state = Locked(State(events: totals.events, bytes: totals.bytes, oldestAcceptedAt: totals.oldestAcceptedAt,
                                 deadLetters: totals.deadLetters))
        } catch {
            throw .invalidConfiguration("CONDUCTOR_OUTBOX_PATH=\(path) cannot be used as an outbox: \(error.message)")
        }
        maxEvents = configuration.outboxMaxEvents
        maxBytes = configuration.outboxMaxBytes
        metrics = OutboxMetrics(factory: metricsFactory)
        publishGauges()
    }

    /// A snapshot of what the outbox holds.
    public var statistics: Statistics {
        let now = Self.wallClock()
        return state.withLock { state in
            Statistics(events: state.events, bytes: state.bytes,
                       oldestEventAge: state.oldestAcceptedAt.map { .milliseconds(Int64(max(0, now - $0) * 1000)) },
                       deadLetters: state.deadLetters, delivered: state.delivered)
        }
    }

    /// The oldest `limit` dead letters.
    public func deadLetters(limit: Int = 100) async throws(ConductorError) -> [DeadLetter] {
        let rows = try await onQueue { store throws(OutboxStore.Failure) in try store.deadLetters(limit: max(0, limit)) }
        return rows.compactMap(Self.deadLetter)
    }

    private static func deadLetter(_ row: OutboxStore.DeadRow) -> DeadLetter? {
        guard let event = try? ConductorProtobufCodec.decodeEvent(row.message) else { return nil }
        return DeadLetter(sequence: row.id, event: event, code: ConductorError.Code(rawValue: row.code) ?? .unknown, message: row.reason)
    }

    /// What the outbox at `path` holds and its oldest `deadLetterLimit` dead letters, read without
    /// taking the outbox from the process that delivers it (for operators: `conductor-smoke
    /// --outbox`). ``Statistics/delivered`` is 0: that count belongs to the delivering process.
    /// It reads the file on a thread of the global executor (`@concurrent`), not the caller's.
    @concurrent
    public static func inspect(path: String, deadLetterLimit: Int = 100) async throws(ConductorError) -> (statistics: Statistics, deadLetters: [DeadLetter]) {
        do {
            let store = try OutboxStore(path: path, readOnly: true)
            let totals = try store.totals()
            let age = totals.oldestAcceptedAt.map { Duration.milliseconds(Int64(max(0, wallClock() - $0) * 1000)) }
            let statistics = Statistics(events: totals.events, bytes: totals.bytes, oldestEventAge: age,
                                        deadLetters: totals.deadLetters, delivered: 0)
            return (statistics, try store.deadLetters(limit: max(0, deadLetterLimit)).compactMap(deadLetter))
        } catch {
            throw .invalidConfiguration("CONDUCTOR_OUTBOX_PATH=\(path) cannot be read as an outbox: \(error.message)")
        }
    }

    // MARK: Accepting

    /// Commits `event` (grouped with the others arriving meanwhile) and returns its sequence number;
    /// `promise`, when given, receives the receipt on delivery.
    func accept(_ event: ConductorEvent, promise: ReceiptPromise?) async throws(ConductorError) -> Int64 {
        let framed = ConductorProtobufCodec.encodeEvent(event)
        let message = Array(framed.dropFirst(5))
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int64, ConductorError>, Never>) in
            let verdict = state.withLock { state -> (refusal: ConductorError?, schedules: Bool) in
                if state.closed {
                    return (ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down",
                                           method: .submitEvent), false)
                }
                if state.events + 1 > maxEvents || state.bytes + message.count > maxBytes {
                    return (fullError(state), false)
                }
                state.events += 1
                state.bytes += message.count
                state.admitted.append(Admission(message: message, promise: promise, continuation: continuation))
                defer { state.commitScheduled = true }
                return (nil, !state.commitScheduled)
            }
            if let refusal = verdict.refusal {
                continuation.resume(returning: .failure(refusal))
            } else if verdict.schedules {
                queue.async { self.commitAdmitted() }
            }
        }
        return try result.get()
    }

    private func fullError(_ state: State) -> ConductorError {
        ConductorError(kind: .outboxFull, code: .resourceExhausted,
                       message: "the outbox is full (\(state.events) events, \(state.bytes) bytes; CONDUCTOR_OUTBOX_MAX_EVENTS=\(maxEvents), CONDUCTOR_OUTBOX_MAX_BYTES=\(maxBytes)): the event was not accepted",
                       method: .submitEvent)
    }

    /// On the queue: writes every admitted event in one transaction and answers their callers.
    private func commitAdmitted() {
        let batch = state.withLock { state -> [Admission] in
            defer {
                state.admitted = []
                state.commitScheduled = false
            }
            return state.admitted
        }
        guard !batch.isEmpty else { return } // committed already, by close()
        let now = Self.wallClock()
        let outcome: Result<[Int64], OutboxStore.Failure> = Result { () throws(OutboxStore.Failure) in
            try store.append(batch.map(\.message), acceptedAt: now)
        }
        // The gauges are published before the callers resume: a caller that reads them after its
        // submit returned sees its event counted.
        switch outcome {
        case .success(let ids):
            state.withLock { state in
                if state.oldestAcceptedAt == nil { state.oldestAcceptedAt = now }
                for (admission, id) in zip(batch, ids) { state.promises[id] = admission.promise }
            }
            publishGauges()
            wakeDeliverer()
            for (admission, id) in zip(batch, ids) { admission.continuation.resume(returning: .success(id)) }
        case .failure(let failure):
            state.withLock { state in
                state.events -= batch.count
                state.bytes -= batch.reduce(0) { $0 + $1.message.count }
            }
            publishGauges()
            let error = ConductorError(kind: .outboxFailed, code: .internalError,
                                       message: "the outbox could not store the event: \(failure.message)", method: .submitEvent)
            for admission in batch { admission.continuation.resume(returning: .failure(error)) }
        }
    }

    // MARK: Delivering (used by OutboxDeliverer)

    /// The oldest `limit` events, decoded (nil for a stored message that does not decode).
    func oldest(limit: Int) async throws(ConductorError) -> [(row: OutboxStore.Row, event: ConductorEvent?)] {
        let rows = try await onQueue { store throws(OutboxStore.Failure) in try store.oldest(limit: limit) }
        return rows.map { ($0, try? ConductorProtobufCodec.decodeEvent($0.message)) }
    }

    /// Deletes delivered events and hands their callers the receipts.
    func delivered(_ rows: [OutboxStore.Row], receipts: [ConductorReceipt]) async throws(ConductorError) {
        let ids = rows.map(\.id)
        // The oldest acceptance time is read and stored on the queue, in order with the commits
        // (stored later, it could overwrite the time of an event committed in between).
        try await onQueue { [state] store throws(OutboxStore.Failure) in
            try store.delete(ids)
            let oldest = try store.oldestAcceptedAt()
            state.withLock { $0.oldestAcceptedAt = oldest }
        }
        let promises = state.withLock { state -> [ReceiptPromise?] in
            state.events -= rows.count
            state.bytes -= rows.reduce(0) { $0 + $1.message.count }
            state.delivered += rows.count
            return ids.map { state.promises.removeValue(forKey: $0) }
        }
        metrics.delivered.increment(by: rows.count)
        publishGauges()
        for (promise, receipt) in zip(promises, receipts) { promise?.fulfil(.success(receipt)) }
    }

    /// Moves one event the conductor rejected to the dead letters.
    func deadLetter(_ row: OutboxStore.Row, error: ConductorError) async throws(ConductorError) {
        let now = Self.wallClock()
        try await onQueue { [state] store throws(OutboxStore.Failure) in
            try store.deadLetter(row, code: error.code.rawValue, reason: error.message, failedAt: now)
            let oldest = try store.oldestAcceptedAt()
            state.withLock { $0.oldestAcceptedAt = oldest }
        }
        let promise = state.withLock { state -> ReceiptPromise? in
            state.events -= 1
            state.bytes -= row.message.count
            state.deadLetters += 1
            return state.promises.removeValue(forKey: row.id)
        }
        metrics.deadLettered.increment()
        publishGauges()
        var rejected = error
        rejected.message = error.kind == .outboxFailed
            ? "the stored event could not be read; it is in the outbox's dead letters: \(error.message)"
            : "the conductor rejected the event; it is in the outbox's dead letters: \(error.message)"
        promise?.fulfil(.failure(rejected))
    }

    /// Returns once the outbox holds an event, or when the task is cancelled.
    func waitForEvents() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.events - state.admitted.count > 0 || Task.isCancelled { return true }
                    state.eventWaiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            wakeDeliverer()
        }
    }

    /// Refuses later durable submits, commits those already admitted, tells callers waiting for
    /// receipts that their events stay queued for the next run, and closes the database. All of it
    /// runs on the queue, after whatever is queued there, so an admitted submit is either committed
    /// (and its waiter told) or was refused with `shutDown`.
    func close() async {
        state.withLock { $0.closed = true }
        let promises = await withCheckedContinuation { (continuation: CheckedContinuation<[ReceiptPromise], Never>) in
            queue.async {
                self.commitAdmitted()
                let promises = self.state.withLock { state -> [ReceiptPromise] in
                    defer { state.promises = [:] }
                    return Array(state.promises.values)
                }
                self.store.close()
                continuation.resume(returning: promises)
            }
        }
        let error = ConductorError(kind: .shutDown, code: .unavailable,
                                   message: "the client shut down before the event was delivered; it stays in the outbox and is delivered by the next run",
                                   method: .submitEventsBatch)
        for promise in promises { promise.fulfil(.failure(error)) }
    }

    /// Refreshes the oldest-event-age gauge (the deliverer calls it while it waits).
    func publishGauges() {
        let statistics = statistics
        metrics.events.record(statistics.events)
        metrics.oldestAge.record(Double(statistics.oldestEventAge?.components.seconds ?? 0))
    }

    // MARK: Plumbing

    private func wakeDeliverer() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.eventWaiter = nil }
            return state.eventWaiter
        }?.resume()
    }

    private func onQueue<Value>(_ work: @escaping @Sendable (OutboxStore) throws(OutboxStore.Failure) -> Value) async throws(ConductorError) -> Value {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, OutboxStore.Failure>, Never>) in
            queue.async { [store] in
                continuation.resume(returning: Result { () throws(OutboxStore.Failure) in try work(store) })
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let failure):
            throw ConductorError(kind: .outboxFailed, code: .internalError, message: "the outbox's database failed: \(failure.message)")
        }
    }

    /// Seconds since 1970: acceptance times must survive a restart, so they are wall-clock times.
    private static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// The outbox's metrics.
struct OutboxMetrics: Sendable {
    let events: Gauge
    let oldestAge: Gauge
    let delivered: Counter
    let deadLettered: Counter

    init(factory: any MetricsFactory) {
        events = Gauge(label: "bridge_conductor_outbox_events", factory: factory)
        oldestAge = Gauge(label: "bridge_conductor_outbox_oldest_event_age_seconds", factory: factory)
        delivered = Counter(label: "bridge_conductor_outbox_delivered_total", factory: factory)
        deadLettered = Counter(label: "bridge_conductor_outbox_dead_lettered_total", factory: factory)
    }
}
