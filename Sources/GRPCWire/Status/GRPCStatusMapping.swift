/// Maps what HTTP and HTTP/2 say about a failed stream onto gRPC status codes, following the
/// gRPC project's `http-grpc-status-mapping` and `PROTOCOL-HTTP2` documents.
package enum GRPCStatusMapping {
    /// The code for a response whose `:status` is not 200 and that carries no `grpc-status`.
    package static func code(forHTTPStatus status: Int) -> GRPCStatusCode {
        switch status {
        case 400: .internalError
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .unimplemented
        case 429, 502, 503, 504: .unavailable
        default: .unknown
        }
    }

    /// The code for a stream reset (RST_STREAM or GOAWAY) before its trailers arrived.
    package static func code(forHTTP2ErrorCode errorCode: UInt32) -> GRPCStatusCode {
        switch HTTP2ErrorCode(rawValue: errorCode) {
        case .refusedStream: .unavailable
        case .cancel: .cancelled
        case .enhanceYourCalm: .resourceExhausted
        case .inadequateSecurity: .permissionDenied
        default: .internalError
        }
    }
}

/// HTTP/2 error codes (RFC 9113 section 7).
package enum HTTP2ErrorCode: UInt32, Sendable, CaseIterable {
    case noError = 0x0
    case protocolError = 0x1
    case internalError = 0x2
    case flowControlError = 0x3
    case settingsTimeout = 0x4
    case streamClosed = 0x5
    case frameSizeError = 0x6
    case refusedStream = 0x7
    case cancel = 0x8
    case compressionError = 0x9
    case connectError = 0xA
    case enhanceYourCalm = 0xB
    case inadequateSecurity = 0xC
    case http11Required = 0xD

    /// The RFC's name, e.g. `REFUSED_STREAM`.
    package var name: String {
        switch self {
        case .noError: "NO_ERROR"
        case .protocolError: "PROTOCOL_ERROR"
        case .internalError: "INTERNAL_ERROR"
        case .flowControlError: "FLOW_CONTROL_ERROR"
        case .settingsTimeout: "SETTINGS_TIMEOUT"
        case .streamClosed: "STREAM_CLOSED"
        case .frameSizeError: "FRAME_SIZE_ERROR"
        case .refusedStream: "REFUSED_STREAM"
        case .cancel: "CANCEL"
        case .compressionError: "COMPRESSION_ERROR"
        case .connectError: "CONNECT_ERROR"
        case .enhanceYourCalm: "ENHANCE_YOUR_CALM"
        case .inadequateSecurity: "INADEQUATE_SECURITY"
        case .http11Required: "HTTP_1_1_REQUIRED"
        }
    }

    /// The name of any code, including unknown ones (`0x2a`).
    package static func name(of code: UInt32) -> String {
        HTTP2ErrorCode(rawValue: code)?.name ?? "0x" + String(code, radix: 16)
    }
}
