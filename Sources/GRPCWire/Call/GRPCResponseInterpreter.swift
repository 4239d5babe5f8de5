/// Turns what the transport received for a unary call into a message or a gRPC status, following
/// the gRPC HTTP/2 protocol: the status comes from the trailers (or the only HEADERS block of a
/// Trailers-Only response); it is synthesised from `:status`, the content-type or the transport
/// outcome only when the server gave none.
package enum GRPCResponseInterpreter {
    /// Interprets a finished stream. `maximumMessageLength` bounds the decoded message.
    package static func interpret(_ stream: HTTP2StreamResult, maximumMessageLength: Int) -> GRPCUnaryResponse {
        var response = interpretOutcome(stream, maximumMessageLength: maximumMessageLength)
        if stream.outcome == .complete && !stream.hasTrailers {
            response.trailers = stream.headers // Trailers-Only: the one block is the status
        } else {
            response.headers = stream.headers
            response.trailers = stream.trailers
        }
        return response
    }

    private static func interpretOutcome(_ stream: HTTP2StreamResult, maximumMessageLength: Int) -> GRPCUnaryResponse {
        switch stream.outcome {
        case .complete:
            return interpretComplete(stream, maximumMessageLength: maximumMessageLength)
        case .reset(let errorCode):
            let code = GRPCStatusMapping.code(forHTTP2ErrorCode: errorCode)
            let answered = !stream.headers.isEmpty
            let refused = errorCode == HTTP2ErrorCode.refusedStream.rawValue && !answered
            let calm = errorCode == HTTP2ErrorCode.enhanceYourCalm.rawValue && !answered
            var response = failure(code, "stream reset by the server with \(HTTP2ErrorCode.name(of: errorCode))",
                                   notProcessed: refused)
            response.mark { failure in
                failure.refusedStream = refused
                failure.turnedAway = refused || calm
                failure.committed = answered
            }
            return response
        case .notSent(let reason):
            return failure(.unavailable, reason, notProcessed: true, connectionLevel: true)
        case .connectionLost(let reason):
            return failure(.unavailable, reason, connectionLevel: true)
        case .deadlineExceeded:
            return failure(.deadlineExceeded, "deadline exceeded")
        case .cancelled:
            return failure(.cancelled, "call cancelled by the client")
        case .responseTooLarge:
            // The server committed to this answer (its headers came): asking again would bring it
            // again, so it is not retried (gRPC A6).
            var response = tooLarge(stream, maximumMessageLength: maximumMessageLength)
            response.mark { $0.committed = true }
            return response
        case .headersTooLarge:
            return failure(.resourceExhausted, "response headers larger than the header list limit")
        }
    }

    /// The transport stopped at the receive limit, or at a message prefix announcing more than it.
    private static func tooLarge(_ stream: HTTP2StreamResult, maximumMessageLength: Int) -> GRPCUnaryResponse {
        var decoder = GRPCMessageDecoder(maximumMessageLength: maximumMessageLength)
        decoder.append(stream.body.prefix(GRPCMessageFramer.prefixLength))
        do {
            _ = try decoder.next()
        } catch .messageTooLarge(let length, let limit) {
            return failure(.resourceExhausted, "response message of \(length) bytes exceeds the receive limit of \(limit) bytes")
        } catch {}
        return failure(.resourceExhausted, "response larger than the receive limit of \(maximumMessageLength) bytes")
    }

    private static func interpretComplete(_ stream: HTTP2StreamResult, maximumMessageLength: Int) -> GRPCUnaryResponse {
        let trailersOnly = !stream.hasTrailers
        let statusBlock = trailersOnly ? stream.headers : stream.trailers
        var grpcStatus: Substring?
        var grpcMessage = ""
        var pushback: GRPCUnaryResponse.RetryPushback?
        var grpcEncoding: String?
        for (name, value) in statusBlock {
            switch name {
            case "grpc-status": grpcStatus = Substring(value)
            case "grpc-message": grpcMessage = PercentEncoding.decode(value)
            case "grpc-retry-pushback-ms": pushback = parsePushback(value)
            default: break
            }
        }
        var httpStatus: Int?
        var contentType: String?
        for (name, value) in stream.headers {
            switch name {
            case ":status": httpStatus = Int(value)
            case "content-type": contentType = value
            case "grpc-encoding": grpcEncoding = value
            default: break
            }
        }

        guard let grpcStatus else {
            if let httpStatus, httpStatus != 200 {
                return failure(GRPCStatusMapping.code(forHTTPStatus: httpStatus),
                               "HTTP status \(httpStatus) without grpc-status", pushback: pushback)
            }
            if let contentType, !isGRPCContentType(contentType) {
                return failure(.unknown, "response content-type \"\(contentType)\" is not gRPC", pushback: pushback)
            }
            return failure(.unknown, "response ended without grpc-status", pushback: pushback)
        }
        let code = GRPCStatusCode(grpcStatusValue: grpcStatus)
        guard code == .ok else {
            var response = failure(code, grpcMessage, pushback: pushback)
            response.mark { $0.committed = !trailersOnly }
            return response
        }
        if let httpStatus, httpStatus != 200 {
            return failure(GRPCStatusMapping.code(forHTTPStatus: httpStatus), "HTTP status \(httpStatus)")
        }
        if let contentType, !isGRPCContentType(contentType) {
            return failure(.unknown, "response content-type \"\(contentType)\" is not gRPC")
        }
        return decodeSingleMessage(stream.body, maximumMessageLength: maximumMessageLength, encoding: grpcEncoding)
    }

    private static func decodeSingleMessage(_ body: [UInt8], maximumMessageLength: Int, encoding: String?) -> GRPCUnaryResponse {
        var decoder = GRPCMessageDecoder(maximumMessageLength: maximumMessageLength)
        decoder.append(body)
        do {
            guard let frame = try decoder.next() else {
                try decoder.finish()
                return failure(.internalError, "unary response carried no message")
            }
            guard try decoder.next() == nil else {
                return failure(.internalError, "unary response carried more than one message")
            }
            try decoder.finish()
            guard frame.compressed else { return GRPCUnaryResponse(result: .success(frame.message)) }
            return decompress(frame.message, encoding: encoding, limit: maximumMessageLength)
        } catch {
            switch error {
            case .messageTooLarge(let length, let limit):
                return failure(.resourceExhausted, "response message of \(length) bytes exceeds the receive limit of \(limit) bytes")
            case .invalidFlag(let flag):
                return failure(.internalError, "invalid message flag byte \(flag)")
            case .truncated(let missing):
                return failure(.internalError, "response message truncated (\(missing) bytes missing)")
            }
        }
    }

    /// A compressed message, inflated up to the receive limit (a compression bomb fails there).
    private static func decompress(_ message: [UInt8], encoding: String?, limit: Int) -> GRPCUnaryResponse {
        guard let encoding, encoding != "identity" else {
            return failure(.internalError, "compressed response message with no grpc-encoding")
        }
        guard let compression = GRPCCompression(encodingName: encoding) else {
            return failure(.internalError, "compressed response message with unsupported grpc-encoding \"\(encoding)\"")
        }
        do {
            return GRPCUnaryResponse(result: .success(try compression.decompress(message, limit: limit)))
        } catch .tooLarge(let limit) {
            return failure(.resourceExhausted, "decompressed response message exceeds the receive limit of \(limit) bytes")
        } catch {
            return failure(.internalError, "response message is not valid \(compression.rawValue) data")
        }
    }

    private static func isGRPCContentType(_ value: String) -> Bool {
        value == "application/grpc" || value.hasPrefix("application/grpc+") || value.hasPrefix("application/grpc;")
    }

    private static func parsePushback(_ value: String) -> GRPCUnaryResponse.RetryPushback {
        guard let milliseconds = Int64(value), milliseconds >= 0 else { return .doNotRetry }
        return .retryAfter(.milliseconds(milliseconds))
    }

    private static func failure(
        _ code: GRPCStatusCode,
        _ message: String,
        notProcessed: Bool = false,
        pushback: GRPCUnaryResponse.RetryPushback? = nil,
        connectionLevel: Bool = false
    ) -> GRPCUnaryResponse {
        GRPCUnaryResponse(result: .failure(.init(
            status: GRPCStatus(code: code, message: message),
            provablyNotProcessed: notProcessed,
            retryPushback: pushback,
            connectionLevel: connectionLevel)))
    }
}
