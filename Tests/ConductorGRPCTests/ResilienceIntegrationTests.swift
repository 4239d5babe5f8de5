import ConductorGRPC
import Foundation
import Testing

/// Retries, the retry budget, the circuit breaker and the cache against the reference conductor's
/// fault knobs. The server's request log is the witness of what reached it. Most tests run against
/// both reference conductors, gRPC and REST: the rules are one implementation for both protocols.
@Suite(.serialized) struct ResilienceIntegrationTests {
    static let protocols: [ReferenceConductor.ServerProtocol] = [.grpc, .rest]

    @Test func readsRideThroughThirtyPercentUnavailable() async throws {
        let server = try await ReferenceConductor.start(["--error", "GetDayProof=UNAVAILABLE:0.3", "--seed", "7"])
        let client = try makeClient(server.url, timeout: .seconds(30)) { configuration in
            configuration.maxRetries = 10
            configuration.retryDelay = .milliseconds(5)
            configuration.retryMaxDelay = .milliseconds(50)
            configuration.circuitBreakerThreshold = 50
            // The default budget (10 tokens, 0.1 per success) deliberately stops retrying when more
            // than ~9 % of calls fail; riding through 30 % failures takes a bigger one.
            configuration.retryBudgetMaxTokens = 100
            configuration.retryBudgetTokenRatio = 0.5
        }
        // 500 calls from 32 concurrent callers, distinct days so the cache does not answer.
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var failed = 0
                    for day in stride(from: worker + 1, through: 500, by: 32) {
                        do throws(ConductorError) {
                            if try await client.dayProof(Int32(day)).dayNumber != Int32(day) { failed += 1 }
                        } catch {
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        let log = server.log().filter { $0.method == "GetDayProof" }
        let retried = log.filter { $0.attempt > 0 }
        #expect(log.filter { $0.outcome == "ok" }.count == 500)
        #expect(log.filter { $0.outcome == "error:UNAVAILABLE" }.count == retried.count, "every failure was retried once more")
        #expect(retried.count > 100, "about 30 % of 500 calls, plus retries of retries")
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func invalidArgumentIsNeverRetried(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(["--error", "SubmitEvent=INVALID_ARGUMENT"], protocol: serverProtocol)
        let client = try makeClient(for: server) { $0.retryDelay = .milliseconds(5) }
        let error = await conductorError { () async throws(ConductorError) in
            try await client.submit(ConductorEvent(eventType: "bad", epoch: 1))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.attempts == 1)
        #expect(error?.isRetryable == false)
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.log().filter { $0.method == "SubmitEvent" }.count == 1)
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func submitsAreRetriedOnUnavailableOnlyWhenTheConductorDeduplicates(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "SubmitEvent=1"], protocol: serverProtocol)
        let deduplicating = try makeClient(for: server) { $0.retryDelay = .milliseconds(5) }
        let receipt = try await deduplicating.submit(ConductorEvent(eventType: "once", epoch: 1))
        #expect(server.log().filter { $0.method == "SubmitEvent" }.map(\.outcome) == ["error:UNAVAILABLE", "ok"])
        #expect(server.log().last?.eventHashes == [receipt.eventHash])
        await deduplicating.shutdown()

        let other = try await ReferenceConductor.start(["--fail-first", "SubmitEvent=1"], protocol: serverProtocol)
        let strict = try makeClient(for: other) { configuration in
            configuration.retryDelay = .milliseconds(5)
            configuration.submitsAreDeduplicated = false
        }
        let error = await conductorError { () async throws(ConductorError) in
            try await strict.submit(ConductorEvent(eventType: "once", epoch: 1))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.attempts == 1)
        #expect(other.log().filter { $0.method == "SubmitEvent" }.count == 1)
        await strict.shutdown()
    }

    @Test(arguments: protocols)
    func breakerOpensStopsTrafficProbesAndCloses(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        // The first 4 lookups fail: 3 open the breaker, the first probe fails, the second closes it.
        let server = try await ReferenceConductor.start(["--fail-first", "GetDayProof=4"], protocol: serverProtocol)
        let client = try makeClient(for: server) { configuration in
            configuration.maxRetries = 0
            configuration.circuitBreakerThreshold = 3
            configuration.circuitBreakerTimeout = .milliseconds(400)
        }
        var day: Int32 = 0
        /// A lookup of a day not asked before (the cache answers days it holds).
        func lookup() async -> ConductorError? {
            day += 1
            return await conductorError { () async throws(ConductorError) in try await client.dayProof(day) }
        }
        let clock = ContinuousClock()
        /// Asks until the breaker lets a call through (the probe); returns its outcome and when the
        /// probe's call began (the breaker re-opens, if it does, after that instant).
        func probe() async throws -> (error: ConductorError?, began: ContinuousClock.Instant) {
            for _ in 0..<500 {
                let began = clock.now
                let error = await lookup()
                if error?.kind != .circuitOpen { return (error, began) }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("the breaker never admitted a probe")
            return (nil, clock.now)
        }
        // The breaker opens during the third failing call: `opened` is taken before it, so the
        // time measured from it is never shorter than the breaker's own.
        var opened = clock.now
        for failure in 1...3 {
            if failure == 3 { opened = clock.now }
            #expect(await lookup()?.code == .unavailable)
        }
        #expect(client.circuitBreakerState == .open)
        for _ in 1...50 {
            let rejected = await lookup()
            #expect(rejected?.kind == .circuitOpen)
            #expect(rejected?.message.contains("127.0.0.1:\(server.port)") == true)
        }
        #expect(server.log().count == 3, "no request reaches the server while the breaker is open")

        // Lower bounds only: a loaded machine can delay a probe, never hurry it.
        let first = try await probe()
        #expect(first.error?.code == .unavailable, "the probe reaches the server and fails")
        #expect(clock.now - opened >= .milliseconds(400), "no probe before the open time")
        #expect(server.log().count == 4)
        let reopened = first.began // the failed probe re-opened the breaker after this
        #expect(try await probe().error == nil, "the second probe succeeds")
        #expect(clock.now - reopened >= .milliseconds(600), "re-opened for twice as long (800 ms, not 400 ms)")
        #expect(client.circuitBreakerState == .closed)
        #expect(await lookup() == nil)
        #expect(server.log().count == 6)
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func deadConductorGetsNoMoreThanTheRetryBudget(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(["--error", "*=UNAVAILABLE"], protocol: serverProtocol)
        let client = try makeClient(for: server) { configuration in
            configuration.maxRetries = 3
            configuration.retryDelay = .milliseconds(10)
            configuration.circuitBreakerThreshold = 50
        }
        // 40 calls: with the few retries the budget allows they stay under the breaker's 50
        // failures, however many are in flight at once (over HTTP/1.1, one per connection).
        await withTaskGroup(of: Void.self) { group in
            for day in 1...40 {
                group.addTask { _ = await conductorError { () async throws(ConductorError) in try await client.dayProof(Int32(day)) } }
            }
        }
        let requests = server.log().filter { $0.method == "GetDayProof" }.count
        // Without a budget: 40 × 4 = 160. The bucket (10 tokens, retries only above 5) allows ~5 retries.
        #expect(requests >= 40)
        #expect(requests <= 40 + 6, "requests: \(requests)")
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func thousandColdLookupsOfOneDayMakeOneRequest(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=0.2"], protocol: serverProtocol)
        let client = try makeClient(for: server)
        let proofs = try await withThrowingTaskGroup(of: DayProof.self) { group in
            for _ in 1...1000 { group.addTask { try await client.dayProof(7) } }
            var all: [DayProof] = []
            for try await proof in group { all.append(proof) }
            return all
        }
        #expect(proofs.count == 1000)
        #expect(Set(proofs).count == 1)
        #expect(server.log().filter { $0.method == "GetDayProof" }.count == 1)
        #expect(client.cacheStatistics.loads == 1)
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func canonicalProofsOutliveTheTTLNonCanonicalOnesAreFetchedAgain(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(protocol: serverProtocol)
        let client = try makeClient(for: server) { $0.cacheTTL = .seconds(1) }
        let canonical = try await client.dayProof(7)
        let first = try await client.dayProof(1500)
        #expect(canonical.canonical && !first.canonical)
        #expect(try await client.dayProof(1500) == first, "fresh within the TTL")
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try await client.dayProof(7) == canonical)
        let second = try await client.dayProof(1500)
        #expect(second.proof != first.proof, "the conductor served a new generation")
        let days = server.log().compactMap(\.day)
        #expect(days.filter { $0 == 7 }.count == 1)
        #expect(days.filter { $0 == 1500 }.count == 2)
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func notFoundIsRememberedBriefly(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(protocol: serverProtocol)
        let client = try makeClient(for: server)
        for _ in 1...5 {
            let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(4242) }
            #expect(error?.code == .notFound)
        }
        #expect(server.log().filter { $0.day == 4242 }.count == 1)
        await client.shutdown()
    }

    @Test(arguments: protocols)
    func staleProofIsServedWhenTheConductorIsGoneIfConfigured(_ serverProtocol: ReferenceConductor.ServerProtocol) async throws {
        let server = try await ReferenceConductor.start(protocol: serverProtocol)
        let client = try makeClient(for: server) { configuration in
            configuration.cacheTTL = .milliseconds(100)
            configuration.serveStaleDayProofs = true
            configuration.maxRetries = 0
        }
        let proof = try await client.dayProof(1234)
        server.kill()
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await client.dayProof(1234) == proof)
        #expect(client.cacheStatistics.staleServed == 1)
        await client.shutdown()
    }
}
