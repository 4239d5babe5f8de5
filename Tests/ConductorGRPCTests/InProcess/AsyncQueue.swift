import BridgeResilience
import LockedState

/// A FIFO that tests await: `next()` returns the oldest item, suspending until one is pushed.
final class AsyncQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var takers: [CheckedContinuation<Item, Never>] = []
    }

    private let state = Locked(State())

    func push(_ item: Item) {
        let taker = state.withLock { state -> CheckedContinuation<Item, Never>? in
            if state.takers.isEmpty {
                state.items.append(item)
                return nil
            }
            return state.takers.removeFirst()
        }
        taker?.resume(returning: item)
    }

    func next() async -> Item {
        await withCheckedContinuation { continuation in
            let item = state.withLock { state -> Item? in
                if state.items.isEmpty {
                    state.takers.append(continuation)
                    return nil
                }
                return state.items.removeFirst()
            }
            if let item { continuation.resume(returning: item) }
        }
    }

    /// Items pushed and not yet taken.
    var pending: Int { state.withLock { $0.items.count } }
}
