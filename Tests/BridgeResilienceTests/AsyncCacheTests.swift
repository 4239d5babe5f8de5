import BridgeResilience
import Testing

@Suite("Cache: TTL, LRU and size bound")
struct AsyncCacheTests {
    let clock = ManualResilienceClock()

    func makeCache(capacity: Int = 1000, defaultTTL: Duration = .seconds(300)) -> AsyncCache<Int, String> {
        AsyncCache(configuration: AsyncCacheConfiguration(capacity: capacity, defaultTTL: defaultTTL), clock: clock)
    }

    @Test("the defaults match the design")
    func defaults() {
        let configuration = AsyncCacheConfiguration()
        #expect(configuration.capacity == 1000)
        #expect(configuration.defaultTTL == .seconds(300))
        #expect(configuration.staleIfError == nil)
        #expect(configuration.negativeCaching == nil)
    }

    @Test("a loaded value is served until its default TTL elapses, then loaded again")
    func defaultTTL() async throws {
        let cache = makeCache()
        let loader = CountingLoader()
        let first = try await cache.value(for: 1, load: loader.load)
        #expect(first.value == "value-1")
        #expect(!first.isStale)
        #expect(loader.callCount == 1)

        clock.advance(by: .seconds(300) - .nanoseconds(1))
        #expect(try await cache.value(for: 1, load: loader.load).value == "value-1")
        #expect(cache.cachedValue(for: 1) == "value-1")
        #expect(loader.callCount == 1)

        clock.advance(by: .nanoseconds(1))
        #expect(cache.cachedValue(for: 1) == nil)
        #expect(try await cache.value(for: 1, load: loader.load).value == "value-1")
        #expect(loader.callCount == 2)
        #expect(cache.statistics.hits == 2)
        #expect(cache.statistics.misses == 2)
        #expect(cache.statistics.loads == 2)
    }

    @Test("a per-entry TTL overrides the default")
    func customTTL() async throws {
        let cache = makeCache()
        let loader = CountingLoader { LoadedValue("short-\($0)", lifetime: .ttl(.seconds(10))) }
        _ = try await cache.value(for: 7, load: loader.load)
        clock.advance(by: .seconds(9))
        #expect(cache.cachedValue(for: 7) == "short-7")
        clock.advance(by: .seconds(1))
        #expect(cache.cachedValue(for: 7) == nil)
    }

    @Test("permanent entries survive any TTL and are only evicted by the size bound")
    func permanentEntries() async throws {
        let cache = makeCache(capacity: 2)
        let loader = CountingLoader { LoadedValue("canonical-\($0)", lifetime: .permanent) }
        _ = try await cache.value(for: 1, load: loader.load)
        cache.insert("transient", for: 2)
        clock.advance(by: .seconds(86_400 * 3650))
        #expect(cache.cachedValue(for: 1) == "canonical-1")
        #expect(cache.cachedValue(for: 2) == nil)
        #expect(try await cache.value(for: 1, load: loader.load).value == "canonical-1")
        #expect(loader.callCount == 1)

        cache.insert("newer", for: 3, lifetime: .permanent)
        cache.insert("newest", for: 4, lifetime: .permanent)
        #expect(cache.cachedValue(for: 1) == nil, "evicted as least recently used")
        #expect(cache.count == 2)
    }

    @Test("the least recently used entry is evicted; reads refresh recency")
    func lruOrder() {
        let evictions = Recorder<CacheEvent>()
        let cache = AsyncCache<Int, String>(
            configuration: AsyncCacheConfiguration(capacity: 3), clock: clock
        ) { if $0 == .eviction { evictions.append($0) } }
        cache.insert("a", for: 1)
        cache.insert("b", for: 2)
        cache.insert("c", for: 3)
        #expect(cache.cachedValue(for: 1) == "a")
        cache.insert("d", for: 4)
        #expect(cache.count == 3)
        #expect(cache.cachedValue(for: 2) == nil, "2 was the least recently used")
        #expect(cache.cachedValue(for: 3) == "c")
        cache.insert("e", for: 5)
        #expect(cache.cachedValue(for: 1) == nil, "1 was read before 3 was")
        #expect(cache.cachedValue(for: 4) == "d")
        #expect(cache.cachedValue(for: 3) == "c")
        #expect(cache.cachedValue(for: 5) == "e")
        #expect(cache.statistics.evictions == 2)
        #expect(evictions.elements.count == 2)
    }

    @Test("overwriting a key replaces its value and lifetime without evicting")
    func overwrite() {
        let cache = makeCache(capacity: 2)
        cache.insert("old", for: 1, lifetime: .ttl(.seconds(1)))
        cache.insert("other", for: 2)
        cache.insert("new", for: 1, lifetime: .permanent)
        #expect(cache.count == 2)
        #expect(cache.statistics.evictions == 0)
        clock.advance(by: .seconds(3600))
        #expect(cache.cachedValue(for: 1) == "new")
    }

    @Test("expired entries keep their slot until evicted or overwritten")
    func expiredEntriesOccupySlots() async throws {
        let cache = makeCache(capacity: 2, defaultTTL: .seconds(1))
        cache.insert("a", for: 1)
        cache.insert("b", for: 2)
        clock.advance(by: .seconds(2))
        #expect(cache.count == 2)
        cache.insert("c", for: 3)
        #expect(cache.count == 2)
        #expect(cache.statistics.evictions == 1)
        let loader = CountingLoader()
        #expect(try await cache.value(for: 2, load: loader.load).value == "value-2")
        #expect(cache.count == 2, "the reload overwrote the expired entry")
        #expect(cache.statistics.evictions == 1)
    }

    @Test("removeValue drops an entry")
    func removal() {
        let cache = makeCache()
        cache.insert("a", for: 1)
        cache.insert("b", for: 2)
        cache.removeValue(for: 1)
        cache.removeValue(for: 42)
        #expect(cache.count == 1)
        #expect(cache.cachedValue(for: 1) == nil)
        #expect(cache.cachedValue(for: 2) == "b")
    }

    @Test("LRU bookkeeping matches a reference model over 20,000 random operations")
    func modelBased() {
        let capacity = 8
        let cache = makeCache(capacity: capacity)
        var model: [Int] = []  // keys, least recently used first
        var values: [Int: String] = [:]
        var generator = SplitMix64(seed: 42)
        for step in 0..<20_000 {
            let key = Int.random(in: 0..<20, using: &generator)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4:
                let value = "\(key)@\(step)"
                cache.insert(value, for: key)
                model.removeAll { $0 == key }
                if model.count == capacity {
                    values[model.removeFirst()] = nil
                }
                model.append(key)
                values[key] = value
            case 4..<5:
                cache.removeValue(for: key)
                model.removeAll { $0 == key }
                values[key] = nil
            default:
                #expect(cache.cachedValue(for: key) == values[key])
                if model.contains(key) {
                    model.removeAll { $0 == key }
                    model.append(key)
                }
            }
            #expect(cache.count == model.count)
        }
    }

    @Test("statistics and events agree")
    func eventsMatchStatistics() async throws {
        let events = Recorder<CacheEvent>()
        let cache = AsyncCache<Int, String>(
            configuration: AsyncCacheConfiguration(capacity: 1), clock: clock
        ) { events.append($0) }
        let loader = CountingLoader()
        _ = try await cache.value(for: 1, load: loader.load)
        _ = try await cache.value(for: 1, load: loader.load)
        _ = cache.cachedValue(for: 1)
        _ = cache.cachedValue(for: 2)
        _ = try await cache.value(for: 2, load: loader.load)

        let statistics = cache.statistics
        #expect(statistics.hits == 2)
        #expect(statistics.misses == 2)
        #expect(statistics.loads == 2)
        #expect(statistics.evictions == 1)
        #expect(statistics.negativeHits == 0)
        #expect(statistics.staleServed == 0)
        let counted = Dictionary(grouping: events.elements, by: { $0 }).mapValues(\.count)
        #expect(counted == [.hit: 2, .miss: 2, .load: 2, .eviction: 1])
    }
}
