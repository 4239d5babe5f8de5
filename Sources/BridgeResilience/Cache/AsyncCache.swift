import LockedState
import Synchronization

/// A bounded LRU cache with per-entry TTLs and single-flight loading, for async loaders.
///
/// ```swift
/// let proofs = AsyncCache<Int, DayProof>(configuration: AsyncCacheConfiguration(capacity: 1000))
/// let proof = try await proofs.value(for: day) { day in
///     let proof = try await conductor.fetchDayProof(day)
///     return LoadedValue(proof, lifetime: proof.isCanonical ? .permanent : .defaultTTL)
/// }.value
/// ```
///
/// - **Hits are cheap**: one short lock, one hash lookup, no allocation, no actor hop, and no
///   clock read for permanent entries. ``cachedValue(for:)`` is the synchronous fast path;
///   ``value(for:load:)`` tries it first too.
/// - **LRU with a size bound**: every operation is O(1). Expired entries keep their slot until
///   they are overwritten or evicted, so they can still be served stale.
/// - **Single flight**: concurrent misses for one key share one load. The load runs in its own
///   unstructured task, which no waiter owns: a waiter that is cancelled gets `CancellationError`
///   at once, while the load goes on for the others (and still fills the cache if every waiter left).
///   The load's error is delivered to every waiter.
/// - **Serve-stale** and **negative caching** on load failures, see ``AsyncCacheConfiguration``.
/// - **Counters** in ``statistics``, and an optional `onEvent` callback for metrics.
public final class AsyncCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The configuration the cache was created with.
    public let configuration: AsyncCacheConfiguration

    @usableFromInline let state: Locked<CacheState<Key, Value>>
    private let waiterIDs = Atomic<UInt64>(0)
    @usableFromInline let clock: any ResilienceClock
    @usableFromInline let onEvent: (@Sendable (CacheEvent) -> Void)?

    /// Creates an empty cache.
    ///
    /// - Parameters:
    ///   - configuration: size, lifetimes and failure handling; a capacity below 1 traps.
    ///   - clock: the time source for TTLs; tests pass a ``ManualResilienceClock``.
    ///   - onEvent: called once per counted event, outside the cache's lock, on the thread that
    ///     caused it; keep it cheap (e.g. increment a metric).
    public init(
        configuration: AsyncCacheConfiguration = AsyncCacheConfiguration(),
        clock: any ResilienceClock = SystemResilienceClock(),
        onEvent: (@Sendable (CacheEvent) -> Void)? = nil
    ) {
        precondition(configuration.capacity >= 1, "capacity must be at least 1")
        self.configuration = configuration
        self.state = Locked(CacheState(capacity: configuration.capacity))
        self.clock = clock
        self.onEvent = onEvent
    }

    /// The counters, read atomically.
    public var statistics: CacheStatistics {
        state.withLock { $0.statistics }
    }

    /// The number of entries held, fresh or not (at most ``AsyncCacheConfiguration/capacity``).
    public var count: Int {
        state.withLock { $0.count }
    }

    /// The fresh value held for `key`, or `nil` (nothing held, expired, or a cached failure).
    ///
    /// A value found counts as a hit and becomes the most recently used entry. A `nil` counts
    /// nothing, so that following it with ``value(for:load:)`` counts the miss once.
    @inlinable
    public func cachedValue(for key: Key) -> Value? {
        let value: Value? = state.withLock { state in
            guard case .fresh(let value) = state.lookup(key, clock: clock) else {
                return nil
            }
            state.count(.hit)
            return value
        }
        if value != nil {
            onEvent?(.hit)
        }
        return value
    }

    /// The value for `key`: fresh from the cache, or loaded by `load` once for all concurrent
    /// lookups of the key.
    ///
    /// - Parameters:
    ///   - key: the key to look up.
    ///   - load: produces the value and its lifetime. It runs in an unstructured task that inherits
    ///     the caller's priority and task-local values, and is never cancelled by the cache.
    /// - Returns: the value, flagged ``CacheLookup/isStale`` when the load failed and an expired
    ///   value was served instead.
    /// - Throws: a cached failure (negative caching), the load's error, or `CancellationError`
    ///   when the calling task is cancelled while waiting.
    @inlinable
    public func value(
        for key: Key,
        load: @escaping @Sendable (Key) async throws -> LoadedValue<Value>
    ) async throws -> CacheLookup<Value> {
        if let found = state.withLock({ $0.answer(key, clock: clock) }) {
            return try answer(from: found).get()
        }
        return try await join(key, load: load)
    }

    /// Stores `value` for `key` as the most recently used entry, replacing what was held.
    @inlinable
    public func insert(_ value: Value, for key: Key, lifetime: CacheEntryLifetime = .defaultTTL) {
        let expiry = expiry(of: lifetime)
        let evicted = state.withLock { $0.store(.value(value), for: key, expiry: expiry) }
        if evicted {
            emit(.eviction)
        }
    }

    /// Drops the entry for `key`, if any. A load in flight for the key still stores its result.
    public func removeValue(for key: Key) {
        state.withLock { $0.removeValue(for: key) }
    }

    /// Waits for `key`'s load, starting it if none is in flight.
    @usableFromInline
    func join(
        _ key: Key,
        load: @escaping @Sendable (Key) async throws -> LoadedValue<Value>
    ) async throws -> CacheLookup<Value> {
        let id = waiterIDs.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CacheState<Key, Value>.Waiter) in
                switch state.withLock({ $0.join(key, id: id, waiter: waiter, clock: clock) }) {
                case .cancelled:
                    waiter.resume(throwing: CancellationError())
                case .answered(let found):
                    waiter.resume(with: answer(from: found))
                case .wait(let startsLoad):
                    emit(.miss)
                    if startsLoad {
                        emit(.load)
                        Task { await self.runLoad(of: key, load: load) }
                    }
                }
            }
        } onCancel: {
            state.withLock { $0.removeWaiter(id, for: key) }?.resume(throwing: CancellationError())
        }
    }

    /// Runs the loader and delivers its result to every waiter of `key`.
    private func runLoad(of key: Key, load: @Sendable (Key) async throws -> LoadedValue<Value>) async {
        let result: Result<(value: Value, expiry: MonotonicInstant?), any Error>
        var servesStale = false
        var negativeExpiry: MonotonicInstant?
        do {
            let loaded = try await load(key)
            result = .success((loaded.value, expiry(of: loaded.lifetime)))
        } catch {
            result = .failure(error)
            servesStale = configuration.staleIfError?(error) ?? false
            if let negativeCaching = configuration.negativeCaching, negativeCaching.isCacheable(error) {
                negativeExpiry = clock.now() + negativeCaching.ttl
            }
        }
        let completion = state.withLock {
            $0.completeLoad(of: key, with: result, servesStale: servesStale, negativeExpiry: negativeExpiry, clock: clock)
        }
        for waiter in completion.waiters {
            waiter.resume(with: completion.delivery)
        }
        if completion.evicted {
            emit(.eviction)
        }
        if case .success(let lookup) = completion.delivery, lookup.isStale {
            for _ in completion.waiters {
                emit(.staleServed)
            }
        }
    }

    /// Turns a fresh entry into the caller's answer and reports its event.
    @inlinable
    func answer(from lookup: CacheState<Key, Value>.Lookup) -> Result<CacheLookup<Value>, any Error> {
        switch lookup {
        case .fresh(let value):
            emit(.hit)
            return .success(CacheLookup(value: value, isStale: false))
        case .negative(let error):
            emit(.negativeHit)
            return .failure(error)
        }
    }

    @inlinable
    func expiry(of lifetime: CacheEntryLifetime) -> MonotonicInstant? {
        switch lifetime {
        case .defaultTTL: clock.now() + configuration.defaultTTL
        case .ttl(let duration): clock.now() + duration
        case .permanent: nil
        }
    }

    @inlinable
    func emit(_ event: CacheEvent) {
        onEvent?(event)
    }
}
