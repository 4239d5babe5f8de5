import ConductorGRPC
import Foundation
import Testing

/// One behavioural suite, run against both conductors: the in-memory conductor must behave like a
/// gRPC client talking to the reference conductor, down to the event hashes.
@Suite struct ConductorServiceContractTests {
    @Test(arguments: Backend.allCases)
    func knownDayGivesTheCanonicalProof(_ backend: Backend) async throws {
        let running = try await backend.start()
        let proof = try await running.service.dayProof(7)
        #expect(proof.dayNumber == 7)
        #expect(proof.proof == "proof-of-day-7")
        #expect(proof.proofHash == sha256Hex("proof-of-day-7"))
        #expect(proof.canonical)
        #expect(proof.source == running.proofSource)
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func laterDaysAreNotCanonicalAndChangeOnEachFetch(_ backend: Backend) async throws {
        let running = try await backend.start()
        let first = try await running.service.dayProof(1500, options: ConductorCallOptions(cachePolicy: .reload))
        let second = try await running.service.dayProof(1500, options: ConductorCallOptions(cachePolicy: .reload))
        #expect(!first.canonical)
        #expect(first.proof == "proof-of-day-1500-gen1")
        #expect(second.proof == "proof-of-day-1500-gen2")
        #expect(second.proofHash == sha256Hex("proof-of-day-1500-gen2"))
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func useCacheAnswersAServedDayAgainAndReloadAsksAgain(_ backend: Backend) async throws {
        let running = try await backend.start()
        let first = try await running.service.dayProof(1200)
        let cached = try await running.service.dayProof(1200)
        let reloaded = try await running.service.dayProof(1200, options: ConductorCallOptions(cachePolicy: .reload))
        let afterReload = try await running.service.dayProof(1200)
        #expect(first.proof == "proof-of-day-1200-gen1")
        #expect(cached == first)
        #expect(reloaded.proof == "proof-of-day-1200-gen2")
        #expect(afterReload == reloaded)
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func unknownDayIsNotFoundWithTheMessage(_ backend: Backend) async throws {
        let running = try await backend.start()
        for day: Int32 in [0, 2000, -3] {
            let error = await conductorError { () async throws(ConductorError) in try await running.service.dayProof(day) }
            #expect(error?.code == .notFound)
            #expect(error?.message == "no proof for day \(day)")
            #expect(error?.kind == .rpcFailed)
            #expect(error?.method == .getDayProof)
            #expect(error?.isRetryable == false)
        }
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func sameContentGivesTheSameHash(_ backend: Backend) async throws {
        let running = try await backend.start()
        let event = ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hello".utf8), metadata: ["k": "v", "a": "b"])
        let receipt = try await running.service.submit(event)
        let again = try await running.service.submit(
            ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hello".utf8), metadata: ["a": "b", "k": "v"]))
        #expect(receipt == again)
        #expect(receipt.epoch == 42)
        #expect(receipt.eventHash.count == 64)
        #expect(receipt.eventHash.allSatisfy { "0123456789abcdef".contains($0) })
        var variants: [ConductorEvent] = []
        variants.append(ConductorEvent(eventType: "test.other", epoch: 42, payload: Array("hello".utf8), metadata: ["k": "v", "a": "b"]))
        variants.append(ConductorEvent(eventType: "test.event", epoch: 43, payload: Array("hello".utf8), metadata: ["k": "v", "a": "b"]))
        variants.append(ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hellO".utf8), metadata: ["k": "v", "a": "b"]))
        variants.append(ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hello".utf8), metadata: ["k": "v"]))
        variants.append(ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hello".utf8), metadata: ["k": "w", "a": "b"]))
        var hashes: Set<String> = [receipt.eventHash]
        for variant in variants {
            hashes.insert(try await running.service.submit(variant).eventHash)
        }
        #expect(hashes.count == variants.count + 1, "each change of content must change the hash")
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func batchReceiptsAreInOrderWithTheHashesOfSingleSubmits(_ backend: Backend) async throws {
        let running = try await backend.start()
        let events = (0..<12).map { ConductorEvent(eventType: "batch", epoch: Int32($0), payload: Array("e\($0)".utf8)) }
        let receipts = try await running.service.submit(batch: events)
        #expect(receipts.map(\.epoch) == (0..<12).map { Int32($0) })
        #expect(Set(receipts.map(\.eventHash)).count == events.count)
        for (event, receipt) in zip(events, receipts) {
            #expect(try await running.service.submit(event) == receipt)
        }
        #expect(try await running.service.submit(batch: []) == [])
        #expect(running.appliedEventHashes() == receipts.map(\.eventHash) + receipts.map(\.eventHash))
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func aFailingBatchAppliesNothing(_ backend: Backend) async throws {
        let running = try await backend.start(failFirst: [.submitEventsBatch: 1])
        let events = (0..<3).map { ConductorEvent(eventType: "atomic", epoch: 1, payload: [UInt8($0)]) }
        let error = await conductorError { () async throws(ConductorError) in try await running.service.submit(batch: events) }
        #expect(error?.code == .unavailable)
        #expect(error?.message == "injected UNAVAILABLE")
        #expect(error?.method == .submitEventsBatch)
        #expect(error?.isRetryable == true)
        #expect(running.appliedEventHashes().isEmpty)
        let receipts = try await running.service.submit(batch: events)
        #expect(running.appliedEventHashes() == receipts.map(\.eventHash))
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func healthIsServing(_ backend: Backend) async throws {
        let running = try await backend.start()
        #expect(try await running.service.health() == .serving)
        #expect(try await running.service.health(service: "chorus.ConductorBridge", options: ConductorCallOptions(timeout: .seconds(5))) == .serving)
        await running.stop()
    }

    @Test(arguments: Backend.allCases)
    func callsAfterShutdownFail(_ backend: Backend) async throws {
        let running = try await backend.start()
        await running.service.shutdown()
        let error = await conductorError { () async throws(ConductorError) in try await running.service.health() }
        #expect(error?.kind == .shutDown)
        running.server?.stop()
    }

    /// The strongest check of the in-memory hash: byte for byte the reference conductor's
    /// `event_hash`, including multi-block payloads, negative epochs and non-ASCII metadata keys.
    @Test func bothBackendsGiveTheSameHashes() async throws {
        let memory = try await Backend.memory.start()
        let reference = try await Backend.reference.start()
        let events = [
            ConductorEvent(eventType: "", epoch: 0),
            ConductorEvent(eventType: "message.created", epoch: 7, payload: Array("hello".utf8)),
            ConductorEvent(eventType: "negative", epoch: -1, payload: [0, 255, 128]),
            ConductorEvent(eventType: "extremes", epoch: .min, payload: (0..<55).map { UInt8($0) }),
            ConductorEvent(eventType: "extremes", epoch: .max, payload: (0..<64).map { UInt8($0) }),
            ConductorEvent(eventType: "large", epoch: 3, payload: (0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            ConductorEvent(eventType: "métadonnées ✓", epoch: 9, payload: [],
                           metadata: ["b": "2", "a": "1", "Z": "upper", "é": "accent", "ab": "", "😀": "emoji", "\u{1}": "control"]),
        ]
        let memoryReceipts = try await memory.service.submit(batch: events)
        let referenceReceipts = try await reference.service.submit(batch: events)
        #expect(memoryReceipts == referenceReceipts)
        for event in events {
            #expect(try await reference.service.submit(event).eventHash == InMemoryConductor.eventHash(of: event))
        }
        await memory.stop()
        await reference.stop()
    }
}
