import BridgeResilience
import LockedState
import Metrics

/// Gathers concurrent single `submit` calls into `SubmitEventsBatch` calls
/// (`CONDUCTOR_SUBMIT_COALESCE_WINDOW`, `_MAX`): the first event of a batch waits up to the window
/// for others, a full batch goes at once, and each caller gets its own receipt or its own error.
///
/// A batch is all-or-nothing, so when the conductor rejects one as `INVALID_ARGUMENT` it is split
/// in halves and each half sent again, down to single events: only the callers of the invalid
/// events fail (k invalid events among n cost about 2k·log2(n/k) more calls). Any other failure is
/// every caller's. A caller that is cancelled before its batch goes is taken out of it; once the
/// batch has gone, the caller stops waiting and the others are not affected.
///
/// Each batch is sent from a task of its own — not from one caller's, so that cancelling that
/// caller does not cancel the others' batch.
final class SubmitCoalescer: Sendable {
    /// Sends one batch (the client's `SubmitEventsBatch`, for callers already counted in flight).
    typealias Send = @Sendable ([ConductorEvent]) async throws(ConductorError) -> [ConductorReceipt]

    private struct Member {
        let id: Int
        let event: ConductorEvent
        let promise: ReceiptPromise
        let send: Send
    }

    private struct State {
        var gathering: [Member] = []
        var generation = 0
        var nextID = 0
        /// The window's timer of the current generation (cancelled when a full batch goes first).
        var timer: Task<Void, Never>?
    }

    private let window: Duration
    private let maxEvents: Int
    private let clock: any CallClock
    private let state = Locked(State())
    private let batchSizes: Recorder
    private let coalesced: Counter

    init(window: Duration, maxEvents: Int, clock: any CallClock, metricsFactory: any MetricsFactory) {
        self.window = window
        self.maxEvents = maxEvents
        self.clock = clock
        batchSizes = Recorder(label: "bridge_conductor_submit_coalesced_batch_size", factory: metricsFactory)
        coalesced = Counter(label: "bridge_conductor_submit_coalesced_total", factory: metricsFactory)
    }

    /// Submits `event` in the next batch, which `send` sends, and returns its receipt.
    func submit(_ event: ConductorEvent, send: @escaping Send) async throws(ConductorError) -> ConductorReceipt {
        if Task.isCancelled { throw Self.cancelled } // before joining a batch it could fill and send
        let promise = ReceiptPromise()
        let (id, fullBatch) = state.withLock { state -> (Int, [Member]?) in
            state.nextID += 1
            state.gathering.append(Member(id: state.nextID, event: event, promise: promise, send: send))
            if state.gathering.count >= maxEvents { return (state.nextID, take(&state)) }
            // Started and stored under the lock: the timer cannot take its batch before it is
            // stored, so only a timer that has not fired is ever cancelled (by `take`).
            if state.gathering.count == 1 { state.timer = windowTimer(generation: state.generation) }
            return (state.nextID, nil)
        }
        if let fullBatch { Task { await self.deliver(fullBatch) } }
        guard let outcome = await promise.outcome() else {
            state.withLock { $0.gathering.removeAll { $0.id == id } }
            throw Self.cancelled
        }
        return try outcome.get()
    }

    private static let cancelled = ConductorError(kind: .cancelled, code: .cancelled, message: "the submit was cancelled",
                                                  method: .submitEvent)

    /// Submits waiting for their batch to go.
    var gatheredCount: Int { state.withLock { $0.gathering.count } }

    /// Takes the gathered members and starts a new generation; the current window's timer, if any,
    /// is cancelled.
    private func take(_ state: inout State) -> [Member] {
        defer {
            state.gathering = []
            state.generation += 1
            state.timer?.cancel()
            state.timer = nil
        }
        return state.gathering
    }

    /// The window of `generation`: when it ends, the members gathered so far go as one batch
    /// (unless a full batch took them first, which started a new generation).
    private func windowTimer(generation: Int) -> Task<Void, Never> {
        Task { [clock, window] in
            guard (try? await clock.sleep(until: clock.now() + window)) != nil else { return }
            let members = self.state.withLock { state -> [Member] in
                guard state.generation == generation else { return [] }
                state.timer = nil // this task: not cancelled by take
                return self.take(&state)
            }
            if !members.isEmpty { await self.deliver(members) }
        }
    }

    /// Sends one batch; on INVALID_ARGUMENT, each half again.
    private func deliver(_ members: [Member], isResend: Bool = false) async {
        if !isResend {
            batchSizes.record(members.count)
            coalesced.increment(by: members.count)
        }
        do {
            let receipts = try await members[0].send(members.map(\.event))
            for (member, receipt) in zip(members, receipts) { member.promise.fulfil(.success(receipt)) }
        } catch where error.code == .invalidArgument && error.kind == .rpcFailed && members.count > 1 {
            let middle = members.count / 2
            await deliver(Array(members[..<middle]), isResend: true)
            await deliver(Array(members[middle...]), isResend: true)
        } catch {
            for member in members { member.promise.fulfil(.failure(error)) }
        }
    }
}
