import LockedState

/// Counts calls in flight so that shutdown can stop new calls, wait for the running ones to
/// finish, and only then close connections.
final class CallLifecycle: Sendable {
    private struct State {
        var accepting = true
        var inFlight = 0
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
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
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Refuses new calls and returns once every call in flight has finished.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                state.accepting = false
                if state.inFlight == 0 { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
