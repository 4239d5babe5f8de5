import LockedState

/// Collects values reported from any thread (transitions, cache events) for later assertions.
final class Recorder<Element: Sendable>: Sendable {
    private let storage = Locked<[Element]>([])

    func append(_ element: Element) {
        storage.withLock { $0.append(element) }
    }

    func removeAll() {
        storage.withLock { $0.removeAll() }
    }

    var elements: [Element] {
        storage.withLock { $0 }
    }
}
