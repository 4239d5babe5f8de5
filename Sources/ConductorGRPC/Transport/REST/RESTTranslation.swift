import GRPCWire

/// A gRPC-shaped exchange as a REST request, and the REST answer as the stream a gRPC server would
/// have sent. This is what lets the pool, the retry loop, the breaker, the budget, the deadline,
/// the cache, the interceptors and the metrics serve both protocols unchanged: above the
/// transport everything speaks unary gRPC exchanges. The cost is one protobuf decode of the
/// request and one encode of the answer per call (protobuf-c, small next to the JSON and HTTP work).
struct RESTTranslation {
    /// The REST request for one call.
    struct Outgoing: Sendable {
        var method: ConductorMethod
        var path: String
        var post: Bool
        var body: [UInt8]
        /// Events sent in a batch (the answer must hold as many receipts).
        var eventCount: Int
    }

    /// A request to send, or the answer a server would give a request it cannot read.
    enum Translated {
        case send(Outgoing)
        case answer(HTTP2StreamResult)
    }

    private static let methodPaths = ConductorMethod.allCases.map { (method: $0, path: Array($0.path.utf8)) }

    /// The request for the gRPC call at `path` with the framed `body`.
    static func outgoing(path: ArraySlice<UInt8>, body: [UInt8], encoding: String?) -> Translated {
        guard let method = methodPaths.first(where: { $0.path.equals(path) })?.method else {
            return .answer(status(.unimplemented, "unknown method \(String(decoding: path, as: UTF8.self))"))
        }
        do {
            let message = try UnaryRequestBody.message(of: body, encoding: encoding)
            switch method {
            case .getDayProof:
                let day = try ConductorProtobufCodec.decodeDayProofRequest(message)
                return .send(Outgoing(method: method, path: "/day-proof/\(day)", post: false, body: [], eventCount: 0))
            case .submitEvent:
                let event = try ConductorProtobufCodec.decodeEvent(message)
                return .send(Outgoing(method: method, path: "/events", post: true, body: RESTJSON.encode(event), eventCount: 1))
            case .submitEventsBatch:
                let events = try ConductorProtobufCodec.decodeEventBatch(message)
                return .send(Outgoing(method: method, path: "/events/batch", post: true,
                                         body: RESTJSON.encode(batch: events), eventCount: events.count))
            case .healthCheck, .standardHealthCheck:
                return .send(Outgoing(method: method, path: "/health", post: false, body: [], eventCount: 0))
            }
        } catch let error as UnaryRequestBody.Invalid {
            return .answer(status(.internalError, error.explanation))
        } catch {
            return .answer(status(.internalError, "the request is not a valid \(method.rawValue) message"))
        }
    }

    /// The answer to `outgoing` as a gRPC stream result; a message (framed) larger than
    /// `maximumResponseBytes` is too large, as the gRPC transport would have found it.
    static func answer(_ response: RESTResponse, to outgoing: Outgoing, origin: String,
                       maximumResponseBytes: Int) -> HTTP2StreamResult {
        let result = translatedAnswer(response, to: outgoing, origin: origin)
        guard result.body.count <= maximumResponseBytes else { return HTTP2StreamResult(outcome: .responseTooLarge) }
        return result
    }

    /// The bytes of JSON the transfer may bring for a message of `maximumResponseBytes`: bytes
    /// travel as base64 (4/3) and text may be escaped (`\u0001` is 6 bytes for 1), inside named,
    /// quoted fields. The message limit itself is checked on the translated message (``answer``).
    static func jsonAllowance(forMaximumResponseBytes limit: Int) -> Int {
        limit >= (Int.max - 65_536) / 6 ? Int.max : limit * 6 + 65_536
    }

    private static func translatedAnswer(_ response: RESTResponse, to outgoing: Outgoing, origin: String) -> HTTP2StreamResult {
        switch response.outcome {
        case .complete: break
        case .notSent: return HTTP2StreamResult(outcome: .notSent(reason: "cannot reach \(origin): \(response.detail)"))
        case .connectionLost: return HTTP2StreamResult(outcome: .connectionLost(reason: "\(origin): \(response.detail)"))
        case .deadlineExceeded: return HTTP2StreamResult(outcome: .deadlineExceeded)
        case .cancelled: return HTTP2StreamResult(outcome: .cancelled)
        case .responseTooLarge: return HTTP2StreamResult(outcome: .responseTooLarge)
        }
        let method = outgoing.method
        if method == .healthCheck || method == .standardHealthCheck, response.status == 200 || response.status == 503 {
            let serving: ServingStatus = response.status == 200 ? .serving : .notServing
            return message(method == .healthCheck ? ConductorProtobufCodec.encodeHealthCheck(serving)
                                                  : ConductorProtobufCodec.encodeStandardHealthCheck(serving))
        }
        guard (200..<300).contains(response.status) else {
            let mapped = RESTStatusMapping(status: response.status, method: method, response: response)
            return status(mapped.code, mapped.message, pushbackMilliseconds: mapped.pushbackMilliseconds)
        }
        do throws(RESTJSON.Mismatch) {
            switch method {
            case .getDayProof:
                return message(ConductorProtobufCodec.encodeDayProof(try RESTJSON.decodeDayProof(response.body)))
            case .submitEvent:
                return message(ConductorProtobufCodec.encodeReceipt(try RESTJSON.decodeReceipt(response.body)))
            case .submitEventsBatch:
                let receipts = try RESTJSON.decodeReceipts(response.body, count: outgoing.eventCount)
                return message(ConductorProtobufCodec.encodeReceiptBatch(receipts))
            case .healthCheck, .standardHealthCheck:
                return status(.unknown, "HTTP \(response.status) from /health (expected 200 or 503)")
            }
        } catch {
            return status(.internalError, "the conductor's \(outgoing.path) answer does not match the contract: \(error.explanation)")
        }
    }

    private static let responseHeaders: [(name: String, value: String)] = [(":status", "200"), ("content-type", "application/grpc")]

    /// An answer carrying `framed` (the codec's encoders frame what they encode).
    private static func message(_ framed: [UInt8]) -> HTTP2StreamResult {
        HTTP2StreamResult(outcome: .complete, headers: responseHeaders, trailers: [("grpc-status", "0")], body: framed)
    }

    /// A Trailers-Only answer with `code`.
    private static func status(_ code: ConductorError.Code, _ message: String, pushbackMilliseconds: Int64? = nil) -> HTTP2StreamResult {
        var headers = responseHeaders + [("grpc-status", String(code.rawValue)), ("grpc-message", PercentEncoding.encode(message))]
        if let pushbackMilliseconds { headers.append(("grpc-retry-pushback-ms", String(pushbackMilliseconds))) }
        return HTTP2StreamResult(outcome: .complete, headers: headers)
    }
}
