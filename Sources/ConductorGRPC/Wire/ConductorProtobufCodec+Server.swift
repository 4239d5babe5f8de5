import CConductorProto
#if canImport(Glibc)
import Glibc
#endif
import GRPCWire

/// The conductor's side of the codec — requests decoded, responses encoded (framed) — for the
/// in-process transport, so that a client's bytes meet the same generated protobuf code in both
/// directions as they do over the network.
extension ConductorProtobufCodec {
    // MARK: Requests

    /// Decodes `DayProofRequest`: the day asked for.
    static func decodeDayProofRequest(_ bytes: [UInt8]) throws(InvalidMessage) -> Int32 {
        try unpack(bytes, "chorus.DayProofRequest", chorus__day_proof_request__unpack) { $0.day_number }
            free: { chorus__day_proof_request__free_unpacked($0, nil) }
    }

    /// Decodes `ConductorEvent`.
    static func decodeEvent(_ bytes: [UInt8]) throws(InvalidMessage) -> ConductorEvent {
        try unpack(bytes, "chorus.ConductorEvent", chorus__conductor_event__unpack) { event($0) }
            free: { chorus__conductor_event__free_unpacked($0, nil) }
    }

    /// Decodes `ConductorEventBatch`.
    static func decodeEventBatch(_ bytes: [UInt8]) throws(InvalidMessage) -> [ConductorEvent] {
        try unpack(bytes, "chorus.ConductorEventBatch", chorus__conductor_event_batch__unpack) { batch in
            (0..<batch.n_events).map { event(batch.events[$0]!.pointee) }
        } free: { chorus__conductor_event_batch__free_unpacked($0, nil) }
    }

    /// Decodes either `HealthCheckRequest` (both have the service name as field 1): the service asked about.
    static func decodeHealthCheckRequest(_ bytes: [UInt8]) throws(InvalidMessage) -> String {
        try unpack(bytes, "chorus.HealthCheckRequest", chorus__health_check_request__unpack) { string($0.service) }
            free: { chorus__health_check_request__free_unpacked($0, nil) }
    }

    private static func event(_ message: Chorus__ConductorEvent) -> ConductorEvent {
        var metadata: [String: String] = [:]
        for index in 0..<message.n_metadata {
            let entry = message.metadata[index]!.pointee
            metadata[string(entry.key)] = string(entry.value)
        }
        let payload = message.payload.len > 0 ? Array(UnsafeBufferPointer(start: message.payload.data, count: message.payload.len)) : []
        return ConductorEvent(eventType: string(message.event_type), epoch: message.epoch, payload: payload, metadata: metadata)
    }

    // MARK: Responses

    /// `DayProofResponse`, framed.
    static func encodeDayProof(_ proof: DayProof) -> [UInt8] {
        withCStrings([proof.proof, proof.proofHash, proof.source]) { strings in
            var message = Chorus__DayProofResponse()
            chorus__day_proof_response__init(&message)
            message.day_number = proof.dayNumber
            message.proof = strings[0]
            message.proof_hash = strings[1]
            message.canonical = proof.canonical ? 1 : 0
            message.source = strings[2]
            let size = chorus__day_proof_response__get_packed_size(&message)
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = chorus__day_proof_response__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// `ConductorReceipt`, framed.
    static func encodeReceipt(_ receipt: ConductorReceipt) -> [UInt8] {
        withCStrings([receipt.eventHash]) { strings in
            var message = Chorus__ConductorReceipt()
            chorus__conductor_receipt__init(&message)
            message.event_hash = strings[0]
            message.epoch = receipt.epoch
            let size = chorus__conductor_receipt__get_packed_size(&message)
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = chorus__conductor_receipt__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// `ConductorReceiptBatch`, framed.
    static func encodeReceiptBatch(_ receipts: [ConductorReceipt]) -> [UInt8] {
        withCStrings(receipts.map(\.eventHash)) { strings in
            var structs = receipts.indices.map { index in
                var receipt = Chorus__ConductorReceipt()
                chorus__conductor_receipt__init(&receipt)
                receipt.event_hash = strings[index]
                receipt.epoch = receipts[index].epoch
                return receipt
            }
            return structs.withUnsafeMutableBufferPointer { structs in
                var pointers: [UnsafeMutablePointer<Chorus__ConductorReceipt>?] = structs.indices.map { structs.baseAddress! + $0 }
                return pointers.withUnsafeMutableBufferPointer { pointers in
                    var message = Chorus__ConductorReceiptBatch()
                    chorus__conductor_receipt_batch__init(&message)
                    message.n_receipts = receipts.count
                    message.receipts = pointers.baseAddress
                    let size = chorus__conductor_receipt_batch__get_packed_size(&message)
                    return GRPCMessageFramer.frame(messageLength: size) { out in
                        _ = chorus__conductor_receipt_batch__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
    }

    /// `chorus.HealthCheckResponse`, framed.
    static func encodeHealthCheck(_ status: ServingStatus) -> [UInt8] {
        var message = Chorus__HealthCheckResponse()
        chorus__health_check_response__init(&message)
        message.status = Chorus__HealthCheckResponse__ServingStatus(rawValue: wireValue(of: status))
        let size = chorus__health_check_response__get_packed_size(&message)
        return GRPCMessageFramer.frame(messageLength: size) { out in
            _ = chorus__health_check_response__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// `grpc.health.v1.HealthCheckResponse`, framed.
    static func encodeStandardHealthCheck(_ status: ServingStatus) -> [UInt8] {
        var message = Grpc__Health__V1__HealthCheckResponse()
        grpc__health__v1__health_check_response__init(&message)
        message.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(rawValue: wireValue(of: status))
        let size = grpc__health__v1__health_check_response__get_packed_size(&message)
        return GRPCMessageFramer.frame(messageLength: size) { out in
            _ = grpc__health__v1__health_check_response__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
    }

    private static func wireValue(of status: ServingStatus) -> UInt32 {
        switch status {
        case .unknown: 0
        case .serving: 1
        case .notServing: 2
        case .serviceUnknown: 3
        }
    }

    /// Runs `body` with NUL-terminated copies of `strings`, freed when it returns.
    private static func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>]) -> Result) -> Result {
        let copies = strings.map { strdup($0)! }
        defer { copies.forEach { free($0) } }
        return body(copies)
    }
}
