import ConductorGRPC
import Testing

/// Compression against grpcio: compressed answers decode, compressed requests are accepted.
@Suite("Compression", .timeLimit(.minutes(1)))
struct CompressionIntegrationTests {
    @Test(arguments: ["gzip", "deflate"])
    func answersTheServerCompressesDecode(_ encoding: String) async throws {
        let server = try await ReferenceConductor.start(["--compression", encoding, "--proof-bytes", "7=200000"])
        let client = try makeClient(server.url) { $0.compression = .gzip }
        let response = try await client.response(to: .dayProof(7))
        #expect(response.initialMetadata["grpc-encoding"] == [encoding])
        #expect(response.message.proof.utf8.count == 200_000)
        #expect(response.message.proof.hasPrefix("proof-of-day-7"))
        await client.shutdown()
    }

    @Test func aServerThatCompressesUnaskedIsReadToo() async throws {
        // grpcio's server-wide compression compresses even for a client that did not ask.
        let server = try await ReferenceConductor.start(["--compression", "gzip", "--proof-bytes", "7=200000"])
        let client = try makeClient(server.url)
        let response = try await client.response(to: .dayProof(7))
        #expect(response.initialMetadata["grpc-encoding"] == ["gzip"])
        #expect(response.message.proof.utf8.count == 200_000)
        await client.shutdown()
    }

    @Test(arguments: [ConductorConfiguration.Compression.gzip, .deflate])
    func compressedRequestsAreAcceptedByGrpcio(_ compression: ConductorConfiguration.Compression) async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url) { $0.compression = compression }
        let event = ConductorEvent(eventType: "compressed", epoch: 2, payload: Array(repeating: 0x41, count: 10_000),
                                   metadata: ["k": "v"])
        let receipt = try await client.submit(event)
        let receipts = try await client.submit(batch: [event, event])
        await client.shutdown()
        #expect(receipt.eventHash == InMemoryConductor.eventHash(of: event))
        #expect(receipts.map(\.eventHash) == [receipt.eventHash, receipt.eventHash])
        let submits = server.log().filter { $0.method.hasPrefix("Submit") }
        #expect(submits.map(\.outcome) == ["ok", "ok"])
        #expect(submits.map(\.payloadBytes) == [[10_000], [10_000, 10_000]])
    }
}
