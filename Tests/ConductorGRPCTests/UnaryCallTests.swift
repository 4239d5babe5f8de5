import ConductorGRPC
import Foundation
import Testing

/// Each RPC against the reference conductor (grpcio), over real sockets.
@Suite(.serialized) struct UnaryCallTests {
    @Test func dayProofReturnsTheServersValues() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let proof = try await client.dayProof(7)
        #expect(proof.dayNumber == 7)
        #expect(proof.proof == "proof-of-day-7")
        #expect(proof.proofHash == sha256Hex("proof-of-day-7"))
        #expect(proof.canonical)
        #expect(proof.source == "reference-conductor")
        let later = try await client.dayProof(1500)
        #expect(!later.canonical)
        #expect(later.proof.hasPrefix("proof-of-day-1500"))
        await client.shutdown()
    }

    @Test func unknownDayIsNotFoundWithTheServersMessage() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(5000) }
        #expect(error?.code == .notFound)
        #expect(error?.message == "no proof for day 5000")
        #expect(error?.kind == .rpcFailed)
        #expect(error?.endpoint == "127.0.0.1:\(server.port)")
        #expect(error?.isRetryable == false)
        await client.shutdown()
    }

    @Test func submitReturnsTheContentHashAndTheServerRecordsIt() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let event = ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("hello".utf8), metadata: ["k": "v", "a": "b"])
        let receipt = try await client.submit(event)
        let again = try await client.submit(event)
        let other = try await client.submit(ConductorEvent(eventType: "test.event", epoch: 42, payload: Array("other".utf8)))
        #expect(receipt.epoch == 42)
        #expect(receipt.eventHash.count == 64)
        #expect(receipt == again, "the same content must give the same hash")
        #expect(receipt.eventHash != other.eventHash)
        let logged = server.log().filter { $0.method == "SubmitEvent" }
        #expect(logged.map(\.eventHashes) == [[receipt.eventHash], [receipt.eventHash], [other.eventHash]])
        #expect(logged.first?.payloadBytes == [5])
        await client.shutdown()
    }

    @Test func batchGivesOneReceiptPerEventInOrder() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let events = (0..<25).map { ConductorEvent(eventType: "batch", epoch: Int32($0), payload: Array("e\($0)".utf8)) }
        let receipts = try await client.submit(batch: events)
        #expect(receipts.map(\.epoch) == (0..<25).map { Int32($0) })
        let logged = try #require(server.log().first { $0.method == "SubmitEventsBatch" })
        #expect(logged.eventHashes == receipts.map(\.eventHash))
        for (event, receipt) in zip(events, receipts).prefix(3) {
            #expect(try await client.submit(event) == receipt)
        }
        await client.shutdown()
    }

    @Test func healthBothServices() async throws {
        let serving = try await ReferenceConductor.start()
        let client = try makeClient(serving.url)
        #expect(try await client.health() == .serving)
        #expect(try await client.standardHealth() == .serving)
        let unknownService = await conductorError { () async throws(ConductorError) in
            try await client.standardHealth(service: "no.such.Service")
        }
        #expect(unknownService?.code == .notFound)
        await client.shutdown()

        let notServing = try await ReferenceConductor.start(["--health-status", "NOT_SERVING", "--no-grpc-health"])
        let second = try makeClient(notServing.url)
        #expect(try await second.health() == .notServing)
        let missing = await conductorError { () async throws(ConductorError) in try await second.standardHealth() }
        #expect(missing?.code == .unimplemented)
        await second.shutdown()
    }

    @Test func unixSocketEndpoint() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cond-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await ReferenceConductor.start(["--unix", path, "--no-tcp"])
        let client = try makeClient("unix://\(path)")
        #expect(try await client.dayProof(3).proof == "proof-of-day-3")
        await client.shutdown()
        server.stop()
    }
}

func sha256Hex(_ text: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
