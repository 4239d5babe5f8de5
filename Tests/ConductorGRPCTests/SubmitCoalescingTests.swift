import ConductorGRPC
import Foundation
import Testing

/// `CONDUCTOR_SUBMIT_COALESCE_WINDOW`: concurrent single submits share SubmitEventsBatch calls,
/// and each caller still gets its own receipt or its own error.
@Suite("Submit coalescing", .timeLimit(.minutes(1)))
struct SubmitCoalescingTests {
    private static func event(_ index: Int, type: String = "coalesced") -> ConductorEvent {
        ConductorEvent(eventType: type, epoch: Int32(index), payload: Array("event \(index)".utf8))
    }

    private func client(_ server: ReferenceConductor, window: Duration = .milliseconds(10)) throws -> ConductorClient {
        try makeClient(server.url) {
            $0.submitCoalesceWindow = window
            $0.maxRetries = 0
        }
    }

    /// Submits `events` concurrently; the receipts and errors in `events`' order.
    private func submitAll(_ client: ConductorClient, _ events: [ConductorEvent]) async -> [Result<ConductorReceipt, ConductorError>] {
        await withTaskGroup(of: (Int, Result<ConductorReceipt, ConductorError>).self) { group in
            for (index, event) in events.enumerated() {
                group.addTask {
                    do throws(ConductorError) { return (index, .success(try await client.submit(event))) } catch { return (index, .failure(error)) }
                }
            }
            var results = [Result<ConductorReceipt, ConductorError>?](repeating: nil, count: events.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }

    @Test func aThousandConcurrentSubmitsBecomeFarFewerCallsAndEachCallerGetsItsReceipt() async throws {
        let server = try await ReferenceConductor.start()
        defer { server.stop() }
        let client = try client(server, window: .milliseconds(50))
        let events = (0..<1_000).map { Self.event($0) }
        let results = await submitAll(client, events)
        for (event, result) in zip(events, results) {
            #expect((try? result.get())?.eventHash == InMemoryConductor.eventHash(of: event))
        }
        let log = server.log()
        #expect(log.filter { $0.method == "SubmitEvent" }.isEmpty, "every submit went out in a batch")
        let batches = log.filter { $0.method == "SubmitEventsBatch" }
        // At most 100 events a batch: 10 calls at best. A loaded machine spreads the submits over
        // more windows; 200 (5 events a call) is still far fewer than 1,000.
        #expect(batches.count >= 10 && batches.count <= 200, "\(batches.count) batch calls for 1,000 submits")
        #expect(batches.map(\.eventHashes.count).reduce(0, +) == 1_000)
        await client.shutdown()
    }

    @Test func invalidEventsInACoalescedBatchFailOnlyTheirOwnCallers() async throws {
        let server = try await ReferenceConductor.start(["--reject-event-type", "poison"])
        defer { server.stop() }
        let client = try client(server, window: .milliseconds(50))
        let poisoned: Set = [7, 42, 93]
        let events = (0..<100).map { Self.event($0, type: poisoned.contains($0) ? "poison" : "coalesced") }
        let results = await submitAll(client, events)
        var failed: Set<Int> = []
        for (index, result) in results.enumerated() {
            switch result {
            case .success(let receipt):
                #expect(receipt.eventHash == InMemoryConductor.eventHash(of: events[index]))
            case .failure(let error):
                #expect(error.code == .invalidArgument, "\(error)")
                #expect(error.message.contains("event type poison is rejected"), "\(error)")
                failed.insert(index)
            }
        }
        #expect(failed == poisoned, "exactly the callers of the invalid events fail")
        let applied = server.log().filter { $0.outcome == "ok" }.flatMap(\.eventHashes)
        #expect(Set(applied) == Set(events.indices.filter { !poisoned.contains($0) }.map { InMemoryConductor.eventHash(of: events[$0]) }))
        await client.shutdown()
    }

    /// A window shorter than scheduling (1 µs) fires while its first submitter is still starting
    /// it. The timer was stored only after it started, and a timer found to have fired by then was
    /// cancelled, batch and all: callers on the loop's thread saw about 2 % of submits fail as
    /// CANCELLED. Every caller must get its receipt.
    @Test func aWindowShorterThanSchedulingNeverCancelsItsBatch() async throws {
        let server = try await ReferenceConductor.start()
        defer { server.stop() }
        let client = try client(server, window: .microseconds(1))
        let executor = try #require(client.loopExecutor)
        let failures = await withTaskGroup(of: [String].self) { group in
            for submitter in 0..<64 {
                group.addTask(executorPreference: executor) {
                    var failures: [String] = []
                    for round in 0..<20 {
                        let event = Self.event(submitter * 100 + round)
                        do throws(ConductorError) {
                            let receipt = try await client.submit(event)
                            if receipt.eventHash != InMemoryConductor.eventHash(of: event) { failures.append("wrong receipt") }
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.count == 0, "\(failures.count) of 1,280 submits failed, first: \(failures.first ?? "")")
        #expect(server.log().flatMap(\.eventHashes).count == 1_280)
        await client.shutdown()
    }

    @Test func withTheWindowOffEveryConcurrentSubmitIsACallOfItsOwn() async throws {
        let server = try await ReferenceConductor.start()
        defer { server.stop() }
        let client = try makeClient(server.url) { $0.maxRetries = 0 }
        #expect(client.configuration.submitCoalesceWindow == nil, "off by default")
        let events = (0..<20).map { Self.event($0) }
        let results = await submitAll(client, events)
        for (event, result) in zip(events, results) {
            #expect((try? result.get())?.eventHash == InMemoryConductor.eventHash(of: event))
        }
        #expect(server.log().map(\.method).filter { $0.hasPrefix("Submit") } == Array(repeating: "SubmitEvent", count: 20))
        await client.shutdown()
    }

    @Test func submitsWithTheirOwnOptionsAreNotCoalesced() async throws {
        let server = try await ReferenceConductor.start()
        defer { server.stop() }
        let client = try client(server)
        _ = try await client.submit(Self.event(1), options: ConductorCallOptions(timeout: .seconds(5)))
        #expect(server.log().map(\.method) == ["SubmitEvent"])
        await client.shutdown()
    }
}
