import BridgeResilience
import Testing

@Suite("Cache: serve-stale and negative caching", .timeLimit(.minutes(1)))
struct AsyncCacheFailureTests {
    let clock = ManualResilienceClock()

    func makeCache(
        staleIfError: (@Sendable (any Error) -> Bool)? = nil,
        negativeCaching: AsyncCacheConfiguration.NegativeCaching? = nil
    ) -> AsyncCache<Int, String> {
        AsyncCache(
            configuration: AsyncCacheConfiguration(
                defaultTTL: .seconds(10), staleIfError: staleIfError, negativeCaching: negativeCaching
            ),
            clock: clock
        )
    }

    /// Loads `"value-<key>"` into `cache`, then lets it expire.
    func loadThenExpire(_ key: Int, in cache: AsyncCache<Int, String>) async throws {
        _ = try await cache.value(for: key, load: CountingLoader().load)
        clock.advance(by: .seconds(11))
        #expect(cache.cachedValue(for: key) == nil)
    }

    let failing = CountingLoader { _ in throw TransportError() }

    @Test("a transport failure serves the expired value, flagged stale")
    func servesStale() async throws {
        let cache = makeCache(staleIfError: { $0 is TransportError })
        try await loadThenExpire(1, in: cache)

        let stale = try await cache.value(for: 1, load: failing.load)
        #expect(stale.value == "value-1")
        #expect(stale.isStale)
        #expect(cache.statistics.staleServed == 1)
        #expect(failing.callCount == 1)

        let again = try await cache.value(for: 1, load: failing.load)
        #expect(again.isStale, "the entry stays expired: every lookup tries to load again")
        #expect(failing.callCount == 2)

        let fresh = try await cache.value(for: 1) { _ in LoadedValue("reloaded") }
        #expect(fresh.value == "reloaded")
        #expect(!fresh.isStale)
        #expect(cache.statistics.staleServed == 2)
    }

    @Test("errors the predicate rejects are thrown, stale value or not")
    func staleOnlyForTransportErrors() async throws {
        let cache = makeCache(staleIfError: { $0 is TransportError })
        try await loadThenExpire(1, in: cache)
        await #expect(throws: NotFound.self) {
            try await cache.value(for: 1, load: CountingLoader { _ in throw NotFound() }.load)
        }
        #expect(cache.statistics.staleServed == 0)
    }

    @Test("serve-stale is off by default")
    func staleOffByDefault() async throws {
        let cache = makeCache()
        try await loadThenExpire(1, in: cache)
        await #expect(throws: TransportError.self) { try await cache.value(for: 1, load: failing.load) }
    }

    @Test("without a held value the transport error is thrown")
    func nothingToServe() async {
        let cache = makeCache(staleIfError: { _ in true })
        await #expect(throws: TransportError.self) { try await cache.value(for: 1, load: failing.load) }
    }

    @Test("every waiter of a failed load receives the stale value")
    func staleToAllWaiters() async throws {
        let misses = Countdown(50)
        let cache = AsyncCache<Int, String>(
            configuration: AsyncCacheConfiguration(defaultTTL: .seconds(10), staleIfError: { $0 is TransportError }),
            clock: clock
        ) { if $0 == .miss { misses.arrive() } }
        _ = try await cache.value(for: 3, load: CountingLoader().load)
        clock.advance(by: .seconds(11))

        let gate = Gate()
        let loader = CountingLoader(gate: gate) { _ in throw TransportError() }
        let results = try await withThrowingTaskGroup(of: CacheLookup<String>.self) { group in
            for _ in 0..<49 {
                group.addTask { try await cache.value(for: 3, load: loader.load) }
            }
            await misses.wait()
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 49)
        #expect(results.allSatisfy { $0.value == "value-3" && $0.isStale })
        #expect(loader.callCount == 1)
        #expect(cache.statistics.staleServed == 49)
    }

    @Test("a cacheable failure is rethrown without loading for 5 s by default")
    func negativeCaching() async throws {
        let cache = makeCache(negativeCaching: AsyncCacheConfiguration.NegativeCaching { $0 is NotFound })
        #expect(AsyncCacheConfiguration.NegativeCaching { _ in true }.ttl == .seconds(5))
        let missing = CountingLoader { _ in throw NotFound() }

        await #expect(throws: NotFound.self) { try await cache.value(for: 404, load: missing.load) }
        clock.advance(by: .seconds(5) - .nanoseconds(1))
        await #expect(throws: NotFound.self) { try await cache.value(for: 404, load: missing.load) }
        #expect(missing.callCount == 1)
        #expect(cache.cachedValue(for: 404) == nil)
        #expect(cache.statistics.negativeHits == 1)
        #expect(cache.statistics.hits == 0)

        clock.advance(by: .nanoseconds(1))
        let found = CountingLoader()
        #expect(try await cache.value(for: 404, load: found.load).value == "value-404")
        #expect(found.callCount == 1)
        #expect(cache.cachedValue(for: 404) == "value-404")
    }

    @Test("failures the predicate rejects are not remembered")
    func negativeCachingPredicate() async throws {
        let cache = makeCache(negativeCaching: AsyncCacheConfiguration.NegativeCaching(ttl: .seconds(30)) { $0 is NotFound })
        await #expect(throws: TransportError.self) { try await cache.value(for: 1, load: failing.load) }
        await #expect(throws: TransportError.self) { try await cache.value(for: 1, load: failing.load) }
        #expect(failing.callCount == 2)
        #expect(cache.statistics.negativeHits == 0)
    }

    @Test("a custom negative TTL applies")
    func customNegativeTTL() async throws {
        let cache = makeCache(negativeCaching: AsyncCacheConfiguration.NegativeCaching(ttl: .seconds(30)) { $0 is NotFound })
        let missing = CountingLoader { _ in throw NotFound() }
        await #expect(throws: NotFound.self) { try await cache.value(for: 1, load: missing.load) }
        clock.advance(by: .seconds(29))
        await #expect(throws: NotFound.self) { try await cache.value(for: 1, load: missing.load) }
        #expect(missing.callCount == 1)
        clock.advance(by: .seconds(1))
        await #expect(throws: NotFound.self) { try await cache.value(for: 1, load: missing.load) }
        #expect(missing.callCount == 2)
    }

    @Test("a stale value is served rather than replaced by a remembered failure")
    func staleWinsOverNegative() async throws {
        let cache = makeCache(
            staleIfError: { $0 is TransportError },
            negativeCaching: AsyncCacheConfiguration.NegativeCaching { _ in true }
        )
        try await loadThenExpire(1, in: cache)
        #expect(try await cache.value(for: 1, load: failing.load).isStale)
        #expect(try await cache.value(for: 1, load: failing.load).isStale, "the value was not overwritten")
        #expect(cache.statistics.negativeHits == 0)
    }
}
