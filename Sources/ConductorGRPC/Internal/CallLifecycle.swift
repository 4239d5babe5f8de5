import LockedState

/// The client's life: running, then shutting down (no new calls; the calls in flight finish, or
/// are cut off when the grace period ends), then closed. It counts calls in flight and wakes
/// whoever waits for a phase: ``ConductorClient/run()`` for the shutdown request, shutdown for
/// the drain, a second shutdown for the first one's end.
final class CallLifecycle: Sendable {
    private struct State {
        var accepting = true
        var shutdownClaimed = false
        var forced = false
        var closed = false
        var inFlight = 0
        var nextWaiterID = 0
        var drainWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var requestWaiters: [CheckedContinuation<Void, Never>] = []
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    /// Registers a call; false once shutdown has begun.
    func enter() -> Bool {
        state.withLock { state in
            guard state.accepting else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Marks a registered call finished.
    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0, !state.accepting else { return [] }
            defer { state.drainWaiters = [:] }
            return Array(state.drainWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Refuses new calls from now on and wakes ``waitForShutdownRequest()``.
    func requestShutdown() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.accepting = false
            defer { state.requestWaiters = [] }
            return state.requestWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Requests shutdown and returns whether the caller is the first to claim performing it (the
    /// others wait for ``waitUntilClosed()``).
    func claimShutdown() -> Bool {
        requestShutdown()
        return state.withLock { state in
            defer { state.shutdownClaimed = true }
            return !state.shutdownClaimed
        }
    }

    /// Returns once shutdown has been requested.
    func waitForShutdownRequest() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let requested = state.withLock { state -> Bool in
                guard state.accepting else { return true }
                state.requestWaiters.append(continuation)
                return false
            }
            if requested { continuation.resume() }
        }
    }

    /// Returns once no call is in flight (after ``requestShutdown()``), or when the task is cancelled.
    func drained() async {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if state.inFlight == 0 || Task.isCancelled { return true }
                    state.drainWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Whether some registered call has not finished.
    var hasCallsInFlight: Bool {
        state.withLock { $0.inFlight > 0 }
    }

    /// The grace period ended with calls still in flight: they are being cut off.
    func markForced() {
        state.withLock { $0.forced = true }
    }

    /// Whether calls in flight were cut off by a shutdown (their errors say so).
    var wasForced: Bool {
        state.withLock { $0.forced }
    }

    /// The shutdown finished: connections are closed.
    func markClosed() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the shutdown that another caller started has finished.
    func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = state.withLock { state -> Bool in
                guard !state.closed else { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if closed { continuation.resume() }
        }
    }
}
