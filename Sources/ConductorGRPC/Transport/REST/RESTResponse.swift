import GRPCWire

/// How one REST request ended, with the response when one arrived: what ``RESTTranslation`` turns
/// into the answer a gRPC server would have given, whichever HTTP stack carried it.
struct RESTResponse: Sendable {
    enum Outcome: Sendable, Equatable {
        case complete, notSent, connectionLost, deadlineExceeded, cancelled, responseTooLarge
    }
    var outcome: Outcome
    var status = 0
    var detail = ""
    var body: [UInt8] = []
    var retryAfter: String?
    var location: String?
}

extension RESTResponse {
    /// What an HTTP/2 stream ended with (``RESTHTTP2Connection``); the response kept all its
    /// headers. A gzip body is decoded here, bounded by `allowance` as libcurl bounds its own.
    init(http2 result: HTTP2StreamResult, allowance: Int) {
        switch result.outcome {
        case .complete: self = Self.answer(result, allowance: allowance)
        case .reset(let code) where code == 7: // REFUSED_STREAM: not processed (RFC 9113, 8.7)
            self.init(outcome: .notSent, detail: "the server refused the stream")
        case .reset(let code): self.init(outcome: .connectionLost, detail: "the server reset the stream (HTTP/2 error \(code))")
        case .notSent(let reason): self.init(outcome: .notSent, detail: reason)
        case .connectionLost(let reason): self.init(outcome: .connectionLost, detail: reason)
        case .deadlineExceeded: self.init(outcome: .deadlineExceeded, detail: "deadline exceeded")
        case .cancelled: self.init(outcome: .cancelled, detail: "cancelled")
        case .responseTooLarge: self.init(outcome: .responseTooLarge, detail: "the answer passed the receive limit")
        case .headersTooLarge: self.init(outcome: .connectionLost, detail: "the answer's headers passed the header list limit")
        }
    }

    private static func answer(_ result: HTTP2StreamResult, allowance: Int) -> RESTResponse {
        var response = RESTResponse(outcome: .complete)
        var encoding: String?
        for (name, value) in result.headers {
            switch name {
            case ":status": response.status = Int(value) ?? 0
            case "retry-after": response.retryAfter = value
            case "location": response.location = value
            case "content-encoding": encoding = value.lowercased()
            default: break
            }
        }
        // Only gzip was asked for. Another coding is passed on as it came (as libcurl does): the
        // translation then finds a body that is not the contract's JSON, and says so.
        guard encoding == "gzip", !result.body.isEmpty else {
            response.body = result.body
            return response
        }
        do {
            response.body = try GRPCCompression.gzip.decompress(result.body, limit: allowance)
        } catch .tooLarge {
            return RESTResponse(outcome: .responseTooLarge, detail: "the decoded answer passed the receive limit")
        } catch {
            return RESTResponse(outcome: .connectionLost, detail: "the gzip answer cannot be decoded")
        }
        return response
    }
}
