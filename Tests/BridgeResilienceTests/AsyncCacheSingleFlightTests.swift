import BridgeResilience
import Testing

@Suite("Cache: single flight", .timeLimit(.minutes(1)))
struct AsyncCacheSingleFlightTests {
    /// A cache whose `onEvent` counts down every countdown on every miss, so a test can wait for
    /// callers to be queued behind a load without sleeping.
    func makeCache(misses: Countdown...) -> AsyncCache<Int, String> {
        AsyncCache(clock: ManualResilienceClock()) { event in
            if event == .miss {
                misses.forEach { $0.arrive() }
            }
        }
    }

    @Test("1,000 concurrent misses for one key share exactly one load")
    func thousandCallersOneLoad() async throws {
        let gate = Gate()
        let queued = Countdown(1_000)
        let cache = makeCache(misses: queued)
        let loader = CountingLoader(gate: gate)

        let results = try await withThrowingTaskGroup(of: CacheLookup<String>.self) { group in
            for _ in 0..<1_000 {
                group.addTask { try await cache.value(for: 42, load: loader.load) }
            }
            await queued.wait()
            #expect(cache.statistics.loads == 1, "every caller is queued and only one load started")
            gate.open()
            var results: [CacheLookup<String>] = []
            for try await result in group {
                results.append(result)
            }
            return results
        }
        #expect(results.count == 1_000)
        #expect(results.allSatisfy { $0.value == "value-42" && !$0.isStale })
        #expect(loader.callCount == 1)
        #expect(cache.statistics.loads == 1)
        #expect(cache.statistics.misses == 1_000)
        #expect(cache.cachedValue(for: 42) == "value-42")
    }

    @Test("different keys load independently")
    func keysAreIndependent() async throws {
        let gate = Gate()
        let queued = Countdown(100)
        let cache = makeCache(misses: queued)
        let loader = CountingLoader(gate: gate)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for caller in 0..<100 {
                group.addTask { (caller % 10, try await cache.value(for: caller % 10, load: loader.load).value) }
            }
            await queued.wait()
            gate.open()
            for try await (key, value) in group {
                #expect(value == "value-\(key)")
            }
        }
        #expect(loader.callCount == 10)
    }

    @Test("a cancelled waiter gets CancellationError; the others and the load carry on")
    func cancelledWaiter() async throws {
        let gate = Gate()
        let starterQueued = Countdown(1)
        let allQueued = Countdown(3)
        let cache = makeCache(misses: starterQueued, allQueued)
        let loader = CountingLoader(gate: gate)

        // The first caller starts the load, then is cancelled.
        let starter = Task { try await cache.value(for: 1, load: loader.load) }
        await starterQueued.wait()
        #expect(cache.statistics.loads == 1)
        let second = Task { try await cache.value(for: 1, load: loader.load) }
        let third = Task { try await cache.value(for: 1, load: loader.load) }
        await allQueued.wait()

        starter.cancel()
        await #expect(throws: CancellationError.self) { try await starter.value }
        third.cancel()
        await #expect(throws: CancellationError.self) { try await third.value }

        gate.open()
        #expect(try await second.value.value == "value-1")
        #expect(loader.callCount == 1)
        #expect(!loader.sawCancellation, "the load was not cancelled with the caller that started it")
        #expect(cache.cachedValue(for: 1) == "value-1")
    }

    @Test("a load whose waiters all left still fills the cache")
    func abandonedLoadFillsCache() async throws {
        let gate = Gate()
        let queued = Countdown(1)
        let cache = makeCache(misses: queued)
        let loader = CountingLoader(gate: gate)

        let caller = Task { try await cache.value(for: 5, load: loader.load) }
        await queued.wait()
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }

        gate.open()
        // The next lookup finds the stored value, or joins the same load if it is still finishing.
        let unused = CountingLoader()
        #expect(try await cache.value(for: 5, load: unused.load).value == "value-5")
        #expect(unused.callCount == 0)
        #expect(loader.callCount == 1)
        #expect(cache.statistics.loads == 1)
    }

    @Test("a task cancelled before it waits does not start a load")
    func cancelledBeforeJoining() async {
        let cache = AsyncCache<Int, String>(clock: ManualResilienceClock())
        let loader = CountingLoader()
        let start = Gate()
        let caller = Task {
            await start.wait()
            return try await cache.value(for: 1, load: loader.load)
        }
        caller.cancel()
        start.open()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(loader.callCount == 0)
        #expect(cache.statistics.loads == 0)
    }

    @Test("the load's error is delivered to every waiter and nothing is cached")
    func errorToAllWaiters() async throws {
        let gate = Gate()
        let queued = Countdown(100)
        let cache = makeCache(misses: queued)
        let loader = CountingLoader(gate: gate) { _ in throw TransportError() }
        let failures = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do {
                        _ = try await cache.value(for: 9, load: loader.load)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            await queued.wait()
            gate.open()
            var failures: [any Error] = []
            for await failure in group {
                if let failure {
                    failures.append(failure)
                }
            }
            return failures
        }
        #expect(failures.count == 100)
        #expect(failures.allSatisfy { $0 is TransportError })
        #expect(loader.callCount == 1)
        #expect(cache.count == 0)

        let recovered = CountingLoader()
        #expect(try await cache.value(for: 9, load: recovered.load).value == "value-9")
        #expect(recovered.callCount == 1, "a failure is not remembered without negative caching")
    }
}
