import GRPCWire

/// One RPC with its request message, for ``ConductorClient/response(to:options:)``, which returns
/// the answer together with the response metadata.
///
/// ```swift
/// let response = try await client.response(to: .dayProof(42))
/// print(response.message.proof, response.initialMetadata["x-served-by"])
/// ```
public struct ConductorRequest<Response: Sendable>: Sendable {
    /// The RPC.
    public let method: ConductorMethod
    let body: [UInt8]
    let decode: @Sendable ([UInt8]) throws(ConductorProtobufCodec.InvalidMessage) -> Response

    /// `GetDayProof` for `day` (never answered from the cache).
    public static func dayProof(_ day: Int32) -> ConductorRequest<DayProof> {
        .init(method: .getDayProof, body: ConductorProtobufCodec.encodeDayProofRequest(day: day),
              decode: ConductorProtobufCodec.decodeDayProof)
    }

    /// `SubmitEvent`.
    public static func submit(_ event: ConductorEvent) -> ConductorRequest<ConductorReceipt> {
        .init(method: .submitEvent, body: ConductorProtobufCodec.encodeEvent(event), decode: ConductorProtobufCodec.decodeReceipt)
    }

    /// `SubmitEventsBatch` (all-or-nothing).
    public static func submit(batch events: [ConductorEvent]) -> ConductorRequest<[ConductorReceipt]> {
        let count = events.count
        return .init(method: .submitEventsBatch, body: ConductorProtobufCodec.encodeEventBatch(events)) {
            (message: [UInt8]) throws(ConductorProtobufCodec.InvalidMessage) -> [ConductorReceipt] in
            let receipts = try ConductorProtobufCodec.decodeReceiptBatch(message)
            guard receipts.count == count else {
                throw ConductorProtobufCodec.InvalidMessage(
                    messageType: "chorus.ConductorReceiptBatch",
                    explanation: "the conductor returned \(receipts.count) receipts for \(count) events")
            }
            return receipts
        }
    }

    /// `chorus.ConductorBridge/HealthCheck`.
    public static func health(service: String = "") -> ConductorRequest<ServingStatus> {
        .init(method: .healthCheck, body: ConductorProtobufCodec.encodeHealthCheckRequest(service: service),
              decode: ConductorProtobufCodec.decodeHealthCheck)
    }

    /// The standard `grpc.health.v1.Health/Check`.
    public static func standardHealth(service: String = "") -> ConductorRequest<ServingStatus> {
        .init(method: .standardHealthCheck, body: ConductorProtobufCodec.encodeStandardHealthCheckRequest(service: service),
              decode: ConductorProtobufCodec.decodeStandardHealthCheck)
    }
}

/// An answer with what came with it.
public struct ConductorResponse<Message: Sendable>: Sendable {
    /// The decoded response message.
    public var message: Message
    /// The response headers (initial metadata) as received, including `content-type`.
    public var initialMetadata: ConductorMetadata
    /// The trailers as received, including `grpc-status`.
    public var trailers: ConductorMetadata
    /// The endpoint (`host:port`) that answered.
    public var endpoint: String
    /// How many attempts the call took.
    public var attempts: Int
}
