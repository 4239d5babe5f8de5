import GRPCWire

extension InMemoryConductor {
    /// Serves one gRPC request that came over the in-process transport: the framed request body
    /// is decoded with the same generated code as the client's, the call runs as a direct one
    /// does (counted, faults applied, effects recorded; no metrics: the client records its own),
    /// and the answer comes back as a stream would have carried it.
    func reply(to path: String, headers: [(name: String, value: String)], body: [UInt8], deadline: Duration?) async -> HTTP2StreamResult {
        guard let method = ConductorMethod.allCases.first(where: { $0.path == path }) else {
            return Self.status(.unimplemented, "unknown method \(path)")
        }
        let message: [UInt8]
        do {
            message = try UnaryRequestBody.message(of: body, encoding: headers.first { $0.name == "grpc-encoding" }?.value)
        } catch {
            return Self.status(.internalError, error.explanation)
        }
        switch method {
        case .getDayProof:
            return await stream(method, deadline: deadline) { () throws(ConductorError) in
                ConductorProtobufCodec.encodeDayProof(try proof(for: try Self.decode(method, message, ConductorProtobufCodec.decodeDayProofRequest)))
            }
        case .submitEvent:
            return await stream(method, deadline: deadline) { () throws(ConductorError) in
                ConductorProtobufCodec.encodeReceipt(apply(try Self.decode(method, message, ConductorProtobufCodec.decodeEvent)))
            }
        case .submitEventsBatch:
            return await stream(method, deadline: deadline) { () throws(ConductorError) in
                ConductorProtobufCodec.encodeReceiptBatch(apply(batch: try Self.decode(method, message, ConductorProtobufCodec.decodeEventBatch)))
            }
        case .healthCheck:
            return await stream(method, deadline: deadline) { () throws(ConductorError) in
                _ = try Self.decode(method, message, ConductorProtobufCodec.decodeHealthCheckRequest)
                return ConductorProtobufCodec.encodeHealthCheck(healthStatus)
            }
        case .standardHealthCheck:
            return await stream(method, deadline: deadline) { () throws(ConductorError) in
                _ = try Self.decode(method, message, ConductorProtobufCodec.decodeHealthCheckRequest)
                return ConductorProtobufCodec.encodeStandardHealthCheck(healthStatus)
            }
        }
    }

    private func stream(_ method: ConductorMethod, deadline: Duration?, _ body: () throws(ConductorError) -> [UInt8]) async -> HTTP2StreamResult {
        switch await serve(method, deadline: deadline, body) {
        case .answered(let framed):
            HTTP2StreamResult(outcome: .complete, headers: Self.responseHeaders, trailers: [("grpc-status", "0")], body: framed)
        case .failed(let error):
            Self.status(error.code, error.message)
        case .deadlinePassed:
            HTTP2StreamResult(outcome: .deadlineExceeded)
        case .cancelled:
            HTTP2StreamResult(outcome: .cancelled)
        case .replyLost:
            HTTP2StreamResult(outcome: .connectionLost(reason: "the in-memory conductor lost the reply"))
        }
    }

    private static let responseHeaders: [(name: String, value: String)] = [
        (":status", "200"), ("content-type", "application/grpc"), ("x-served-by", endpointName),
    ]

    /// A Trailers-Only answer with `code`.
    private static func status(_ code: ConductorError.Code, _ message: String) -> HTTP2StreamResult {
        HTTP2StreamResult(outcome: .complete, headers: responseHeaders + [
            ("grpc-status", String(code.rawValue)), ("grpc-message", PercentEncoding.encode(message)),
        ])
    }

    /// Decodes a request message; bytes that are not one are `INVALID_ARGUMENT`, as a server says.
    private static func decode<Message>(
        _ method: ConductorMethod,
        _ bytes: [UInt8],
        _ decode: ([UInt8]) throws(ConductorProtobufCodec.InvalidMessage) -> Message
    ) throws(ConductorError) -> Message {
        do {
            return try decode(bytes)
        } catch {
            throw Self.error(method, code: .invalidArgument, message: "the request is not a valid \(error.messageType) message")
        }
    }
}
