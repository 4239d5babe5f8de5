/// Everything an ``AsyncCache`` guards with its lock: the entries, the waiters of in-flight loads
/// and the counters. Its methods never call user code (the clock aside).
///
/// The hit path is `@inlinable` so that clients specialize it for their key and value types.
@usableFromInline
struct CacheState<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    typealias Waiter = CheckedContinuation<CacheLookup<Value>, any Error>

    /// A fresh entry found by a lookup.
    @usableFromInline
    enum Lookup {
        case fresh(Value)
        case negative(any Error)
    }

    /// What a lookup that joins the load path must do next.
    enum Join {
        /// Throw `CancellationError`: the task was cancelled before it could wait.
        case cancelled
        /// Answer at once: the entry became fresh, or holds a cached failure (already counted).
        case answered(Lookup)
        /// Wait; `startsLoad` when this lookup is the first and must start the load.
        case wait(startsLoad: Bool)
    }

    /// The outcome of a finished load, to deliver outside the lock.
    struct Completion {
        var waiters: [Waiter]
        var delivery: Result<CacheLookup<Value>, any Error>
        var evicted: Bool
    }

    @usableFromInline var storage: LRUStorage<Key, CacheEntry<Value>>
    private var waiters: [Key: [UInt64: Waiter]] = [:]
    @usableFromInline private(set) var statistics = CacheStatistics()

    init(capacity: Int) {
        storage = LRUStorage(capacity: capacity)
    }

    var count: Int {
        storage.count
    }

    /// Looks `key` up, marking a fresh entry used. Counts nothing: callers count what they answer.
    @inlinable
    mutating func lookup(_ key: Key, clock: any ResilienceClock) -> Lookup? {
        guard let slot = storage.slot(for: key) else {
            return nil
        }
        // Only the expiry is read before the clock is called: reading the entry across that call
        // made the compiler copy the whole node (and the value in it) on every hit.
        if let expiry = storage.nodes[slot].element.expiry, !(clock.now() < expiry) {
            return nil
        }
        storage.markUsed(slot)
        return storage.withElement(at: slot) { entry in
            switch entry.content {
            case .value(let value): .fresh(value)
            case .failure(let error): .negative(error)
            }
        }
    }

    /// Looks `key` up like ``lookup(_:clock:)``, counting a hit or a negative hit.
    @inlinable
    mutating func answer(_ key: Key, clock: any ResilienceClock) -> Lookup? {
        let found = lookup(key, clock: clock)
        switch found {
        case .fresh: count(.hit)
        case .negative: count(.negativeHit)
        case nil: break
        }
        return found
    }

    @inlinable
    mutating func count(_ event: CacheEvent, times: Int = 1) {
        statistics.count(event, times: times)
    }

    /// Registers `waiter` for `key`'s load, unless the lookup can be answered at once.
    mutating func join(_ key: Key, id: UInt64, waiter: Waiter, clock: any ResilienceClock) -> Join {
        if Task.isCancelled {
            return .cancelled
        }
        if let found = answer(key, clock: clock) {
            return .answered(found)
        }
        count(.miss)
        let startsLoad = waiters[key] == nil
        if startsLoad {
            count(.load)
            waiters[key] = [id: waiter]
        } else {
            waiters[key]![id] = waiter
        }
        return .wait(startsLoad: startsLoad)
    }

    /// Removes a waiter that gave up; returns it if it was still waiting.
    mutating func removeWaiter(_ id: UInt64, for key: Key) -> Waiter? {
        waiters[key]?.removeValue(forKey: id)
    }

    /// Stores a value and returns whether an entry was evicted to make room.
    @inlinable
    mutating func store(_ content: CacheEntry<Value>.Content, for key: Key, expiry: MonotonicInstant?) -> Bool {
        let evicted = storage.set(CacheEntry(content: content, expiry: expiry), for: key)
        if evicted {
            count(.eviction)
        }
        return evicted
    }

    mutating func removeValue(for key: Key) {
        storage.removeValue(for: key)
    }

    /// Ends `key`'s load: stores its result and hands back the waiters to resume.
    ///
    /// - Parameters:
    ///   - result: the loaded value and its expiry, or the load's error.
    ///   - servesStale: whether the error allows answering with the value held for the key, even expired.
    ///   - negativeExpiry: when a cacheable error stops being remembered; `nil` if it is not cacheable.
    ///   - clock: tells whether a held value is stale.
    mutating func completeLoad(
        of key: Key,
        with result: Result<(value: Value, expiry: MonotonicInstant?), any Error>,
        servesStale: Bool,
        negativeExpiry: MonotonicInstant?,
        clock: any ResilienceClock
    ) -> Completion {
        let waiting = Array((waiters.removeValue(forKey: key) ?? [:]).values)
        switch result {
        case .success(let loaded):
            let evicted = store(.value(loaded.value), for: key, expiry: loaded.expiry)
            return Completion(
                waiters: waiting,
                delivery: .success(CacheLookup(value: loaded.value, isStale: false)),
                evicted: evicted
            )
        case .failure(let error):
            if servesStale, let slot = storage.slot(for: key), case .value(let held) = storage.element(at: slot).content {
                let isStale = !storage.element(at: slot).isFresh(clock: clock)
                storage.markUsed(slot)
                if isStale {
                    count(.staleServed, times: waiting.count)
                }
                return Completion(waiters: waiting, delivery: .success(CacheLookup(value: held, isStale: isStale)), evicted: false)
            }
            let evicted = negativeExpiry.map { store(.failure(error), for: key, expiry: $0) } ?? false
            return Completion(waiters: waiting, delivery: .failure(error), evicted: evicted)
        }
    }
}
