import BridgeResilience
import LockedState

/// A cache loader that counts its calls and can be held at a gate, so that callers pile up.
final class CountingLoader: Sendable {
    private let calls = Locked(0)
    private let cancelledWhileLoading = Locked(false)
    private let gate: Gate?
    private let outcome: @Sendable (Int) throws -> LoadedValue<String>

    /// - Parameters:
    ///   - gate: when set, every load waits for it to open before answering.
    ///   - outcome: the answer for a key; by default `"value-<key>"` with the default TTL.
    init(gate: Gate? = nil, outcome: @escaping @Sendable (Int) throws -> LoadedValue<String> = { LoadedValue("value-\($0)") }) {
        self.gate = gate
        self.outcome = outcome
    }

    var callCount: Int {
        calls.withLock { $0 }
    }

    /// Whether any load saw its task cancelled.
    var sawCancellation: Bool {
        cancelledWhileLoading.withLock { $0 }
    }

    @Sendable func load(_ key: Int) async throws -> LoadedValue<String> {
        calls.withLock { $0 += 1 }
        if let gate {
            await gate.wait()
        }
        if Task.isCancelled {
            cancelledWhileLoading.withLock { $0 = true }
        }
        return try outcome(key)
    }
}
