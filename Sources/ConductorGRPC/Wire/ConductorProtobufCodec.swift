import CConductorProto
import GRPCWire

/// Encodes requests and decodes responses with the protobuf-c code generated from
/// `Protos/conductor.proto` and `Protos/health.proto`. Requests come out already framed
/// (5-byte gRPC prefix included); users only ever see the Swift value types.
package enum ConductorProtobufCodec {
    /// A response that is well framed but is not valid protobuf for its type.
    package struct InvalidMessage: Error, Sendable {
        /// The protobuf message type that failed to decode.
        package var messageType: String
        /// What is wrong, as the caller's error message says it.
        package var explanation: String

        /// Bytes that do not decode as `messageType`.
        package init(messageType: String) {
            self.init(messageType: messageType, explanation: "the response is not a valid \(messageType) message")
        }

        /// A message that decodes but does not fit the request.
        package init(messageType: String, explanation: String) {
            self.messageType = messageType
            self.explanation = explanation
        }
    }

    // MARK: Requests

    /// `DayProofRequest`, framed.
    package static func encodeDayProofRequest(day: Int32) -> [UInt8] {
        var message = Chorus__DayProofRequest()
        chorus__day_proof_request__init(&message)
        message.day_number = day
        let size = chorus__day_proof_request__get_packed_size(&message)
        return GRPCMessageFramer.frame(messageLength: size) { out in
            _ = chorus__day_proof_request__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// `HealthCheckRequest` of `chorus.ConductorBridge`, framed.
    package static func encodeHealthCheckRequest(service: String) -> [UInt8] {
        service.withCString { name in
            var message = Chorus__HealthCheckRequest()
            chorus__health_check_request__init(&message)
            message.service = UnsafeMutablePointer(mutating: name)
            let size = chorus__health_check_request__get_packed_size(&message)
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = chorus__health_check_request__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// `grpc.health.v1.HealthCheckRequest`, framed.
    package static func encodeStandardHealthCheckRequest(service: String) -> [UInt8] {
        service.withCString { name in
            var message = Grpc__Health__V1__HealthCheckRequest()
            grpc__health__v1__health_check_request__init(&message)
            message.service = UnsafeMutablePointer(mutating: name)
            let size = grpc__health__v1__health_check_request__get_packed_size(&message)
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = grpc__health__v1__health_check_request__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// `ConductorEvent`, framed.
    package static func encodeEvent(_ event: ConductorEvent) -> [UInt8] {
        ProtobufEventArena.withEvents([event]) { events in
            let size = chorus__conductor_event__get_packed_size(events[0])
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = chorus__conductor_event__pack(events[0], out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// `ConductorEventBatch`, framed.
    package static func encodeEventBatch(_ batch: [ConductorEvent]) -> [UInt8] {
        ProtobufEventArena.withEvents(batch) { events in
            var message = Chorus__ConductorEventBatch()
            chorus__conductor_event_batch__init(&message)
            message.n_events = batch.count
            message.events = events.baseAddress
            let size = chorus__conductor_event_batch__get_packed_size(&message)
            return GRPCMessageFramer.frame(messageLength: size) { out in
                _ = chorus__conductor_event_batch__pack(&message, out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    // MARK: Responses

    /// Decodes `DayProofResponse`.
    package static func decodeDayProof(_ bytes: [UInt8]) throws(InvalidMessage) -> DayProof {
        try unpack(bytes, "chorus.DayProofResponse", chorus__day_proof_response__unpack) { message in
            DayProof(
                dayNumber: message.day_number,
                proof: string(message.proof),
                proofHash: string(message.proof_hash),
                canonical: message.canonical != 0,
                source: string(message.source))
        } free: { chorus__day_proof_response__free_unpacked($0, nil) }
    }

    /// Decodes `ConductorReceipt`.
    package static func decodeReceipt(_ bytes: [UInt8]) throws(InvalidMessage) -> ConductorReceipt {
        try unpack(bytes, "chorus.ConductorReceipt", chorus__conductor_receipt__unpack) { message in
            ConductorReceipt(eventHash: string(message.event_hash), epoch: message.epoch)
        } free: { chorus__conductor_receipt__free_unpacked($0, nil) }
    }

    /// Decodes `ConductorReceiptBatch`.
    package static func decodeReceiptBatch(_ bytes: [UInt8]) throws(InvalidMessage) -> [ConductorReceipt] {
        try unpack(bytes, "chorus.ConductorReceiptBatch", chorus__conductor_receipt_batch__unpack) { message in
            (0..<message.n_receipts).map { index in
                let receipt = message.receipts[index]!.pointee
                return ConductorReceipt(eventHash: string(receipt.event_hash), epoch: receipt.epoch)
            }
        } free: { chorus__conductor_receipt_batch__free_unpacked($0, nil) }
    }

    /// Decodes `chorus.HealthCheckResponse`.
    package static func decodeHealthCheck(_ bytes: [UInt8]) throws(InvalidMessage) -> ServingStatus {
        try unpack(bytes, "chorus.HealthCheckResponse", chorus__health_check_response__unpack) { message in
            servingStatus(message.status.rawValue)
        } free: { chorus__health_check_response__free_unpacked($0, nil) }
    }

    /// Decodes `grpc.health.v1.HealthCheckResponse`.
    package static func decodeStandardHealthCheck(_ bytes: [UInt8]) throws(InvalidMessage) -> ServingStatus {
        try unpack(bytes, "grpc.health.v1.HealthCheckResponse", grpc__health__v1__health_check_response__unpack) { message in
            servingStatus(message.status.rawValue)
        } free: { grpc__health__v1__health_check_response__free_unpacked($0, nil) }
    }

    // MARK: Helpers

    static func unpack<Message, Value>(
        _ bytes: [UInt8],
        _ typeName: String,
        _ unpack: (UnsafeMutablePointer<ProtobufCAllocator>?, Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<Message>?,
        read: (Message) -> Value,
        free: (UnsafeMutablePointer<Message>) -> Void
    ) throws(InvalidMessage) -> Value {
        let decoded = bytes.withUnsafeBufferPointer { buffer in
            unpack(nil, buffer.count, buffer.baseAddress ?? UnsafePointer(bitPattern: 1))
        }
        guard let decoded else { throw InvalidMessage(messageType: typeName) }
        defer { free(decoded) }
        return read(decoded.pointee)
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    private static func servingStatus(_ raw: UInt32) -> ServingStatus {
        switch raw {
        case 1: .serving
        case 2: .notServing
        case 3: .serviceUnknown
        default: .unknown
        }
    }
}
