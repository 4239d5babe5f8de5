@testable import ConductorGRPC
import Testing

@Suite struct ConductorProtobufCodecTests {
    @Test func dayProofRequestIsFramedProtobuf() {
        // field 1 (varint) = 42 -> 0x08 0x2A
        #expect(ConductorProtobufCodec.encodeDayProofRequest(day: 42) == [0, 0, 0, 0, 2, 0x08, 0x2A])
        #expect(ConductorProtobufCodec.encodeDayProofRequest(day: 0) == [0, 0, 0, 0, 0])
    }

    @Test func eventEncodingMatchesTheContract() {
        let event = ConductorEvent(eventType: "t", epoch: 1, payload: [0xAB], metadata: ["k": "v"])
        let bytes = ConductorProtobufCodec.encodeEvent(event)
        let body = Array(bytes.dropFirst(5))
        // 1:"t", 2:1, 3:[0xAB], 4:{1:"k", 2:"v"}
        #expect(body == [0x0A, 1, 0x74, 0x10, 1, 0x1A, 1, 0xAB, 0x22, 6, 0x0A, 1, 0x6B, 0x12, 1, 0x76])
        #expect(Int(bytes[4]) == body.count)
    }

    @Test func batchOfManyEvents() {
        let events = (0..<100).map { ConductorEvent(eventType: "type\($0)", epoch: Int32($0), payload: [UInt8](repeating: 1, count: 200), metadata: ["i": "\($0)"]) }
        let bytes = ConductorProtobufCodec.encodeEventBatch(events)
        #expect(bytes.count > 100 * 200)
        let empty = ConductorProtobufCodec.encodeEventBatch([])
        #expect(empty == [0, 0, 0, 0, 0])
    }

    @Test func decodesResponses() throws {
        // DayProofResponse {1: 7, 2: "p", 3: "h", 4: true, 5: "s"}
        let proof = try ConductorProtobufCodec.decodeDayProof([0x08, 7, 0x12, 1, 0x70, 0x1A, 1, 0x68, 0x20, 1, 0x2A, 1, 0x73])
        #expect(proof == DayProof(dayNumber: 7, proof: "p", proofHash: "h", canonical: true, source: "s"))
        let receipt = try ConductorProtobufCodec.decodeReceipt([0x0A, 2, 0x61, 0x62, 0x10, 3])
        #expect(receipt == ConductorReceipt(eventHash: "ab", epoch: 3))
        let batch = try ConductorProtobufCodec.decodeReceiptBatch([0x0A, 4, 0x0A, 0, 0x10, 1, 0x0A, 2, 0x10, 2])
        #expect(batch == [ConductorReceipt(eventHash: "", epoch: 1), ConductorReceipt(eventHash: "", epoch: 2)])
        #expect(try ConductorProtobufCodec.decodeHealthCheck([0x08, 2]) == .notServing)
        #expect(try ConductorProtobufCodec.decodeStandardHealthCheck([0x08, 3]) == .serviceUnknown)
        #expect(try ConductorProtobufCodec.decodeHealthCheck([]) == .unknown)
    }

    @Test func invalidProtobufIsAnErrorNotACrash() {
        #expect(throws: ConductorProtobufCodec.InvalidMessage.self) { try ConductorProtobufCodec.decodeDayProof([0x12, 50, 1]) }
        #expect(throws: ConductorProtobufCodec.InvalidMessage.self) { try ConductorProtobufCodec.decodeReceipt([0xFF, 0xFF, 0xFF]) }
    }
}
