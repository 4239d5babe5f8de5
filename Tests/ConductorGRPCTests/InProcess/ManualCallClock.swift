import BridgeResilience
@testable import ConductorGRPC
import LockedState

/// A clock that moves only when the test advances it; sleepers wake when it passes their instant.
/// Sleeps of the scripted transport's exchange deadlines are kept apart from the client's own
/// (backoff, pool ticks), so a test can wait for "the client is now sleeping" without races.
final class ManualCallClock: CallClock {
    private struct Sleeper {
        let id: Int
        let deadline: MonotonicInstant
        let isExchangeDeadline: Bool
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        let predicate: @Sendable ([MonotonicInstant]) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now = MonotonicInstant(nanoseconds: 1_000_000_000)
        var sleepers: [Sleeper] = []
        var watchers: [Watcher] = []
        var nextID = 0

        /// The instants the client itself sleeps until.
        var clientSleeps: [MonotonicInstant] { sleepers.filter { !$0.isExchangeDeadline }.map(\.deadline) }

        mutating func takeSatisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
            let sleeps = clientSleeps
            var satisfied: [CheckedContinuation<Void, Never>] = []
            watchers.removeAll { watcher in
                guard watcher.predicate(sleeps) else { return false }
                satisfied.append(watcher.continuation)
                return true
            }
            return satisfied
        }
    }

    private let state = Locked(State())

    func now() -> MonotonicInstant { state.withLock { $0.now } }

    func sleep(until deadline: MonotonicInstant) async throws {
        try await sleep(until: deadline, isExchangeDeadline: false)
    }

    func sleep(until deadline: MonotonicInstant, isExchangeDeadline: Bool) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (due, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadline <= state.now || Task.isCancelled { return (true, []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, isExchangeDeadline: isExchangeDeadline,
                                                  continuation: continuation))
                    return (false, state.takeSatisfiedWatchers())
                }
                for watcher in watchers { watcher.resume() }
                if due { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves time forward and wakes every sleeper whose instant has come.
    func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now + duration
            let now = state.now
            var due: [Sleeper] = []
            state.sleepers.removeAll { sleeper in
                guard sleeper.deadline <= now else { return false }
                due.append(sleeper)
                return true
            }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time to `instant` (if it is ahead).
    func advance(to instant: MonotonicInstant) {
        let now = now()
        if instant > now { advance(by: now.duration(to: instant)) }
    }

    /// Returns once the client sleeps until some instant that `predicate` accepts.
    func waitForClientSleep(where predicate: @escaping @Sendable (MonotonicInstant) -> Bool = { _ in true }) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.clientSleeps.contains(where: predicate) { return true }
                state.watchers.append(Watcher(predicate: { $0.contains(where: predicate) }, continuation: continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Returns, once there is one, the earliest instant the client sleeps until within `ceiling`
    /// from now: a retry's backoff, told apart from the pool's own timer (a parked call's deadline
    /// lies further out) without depending on which of them started sleeping first.
    func nextClientSleep(within ceiling: Duration) async -> MonotonicInstant {
        let latest = now() + ceiling
        await waitForClientSleep { $0 <= latest }
        return state.withLock { $0.clientSleeps.filter { $0 <= latest }.min()! }
    }

    /// The instants the client sleeps until now.
    var clientSleeps: [MonotonicInstant] { state.withLock { $0.clientSleeps } }
}
