import CNGHTTP2Shim
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the transport reports about one finished request/response exchange.
package struct HTTP2StreamResult: Sendable {
    /// How the stream ended.
    package enum Outcome: Sendable, Equatable {
        /// The peer ended the stream; headers, body and trailers are complete.
        case complete
        /// The peer reset the stream before ending it, with this HTTP/2 error code.
        case reset(errorCode: UInt32)
        /// The request never left this process; safe to send again anywhere.
        case notSent(reason: String)
        /// The connection failed while the stream was open; the server may have processed it.
        case connectionLost(reason: String)
        /// The local deadline passed; the stream was reset with CANCEL.
        case deadlineExceeded
        /// The caller cancelled; the stream was reset with CANCEL.
        case cancelled
        /// The response body passed the receive limit; the stream was reset with CANCEL.
        case responseTooLarge
        /// The response headers passed the header list limit; the stream was reset.
        case headersTooLarge
    }

    /// How the stream ended.
    package var outcome: Outcome
    /// The first header block (the only one for a Trailers-Only response). From the transport it
    /// holds only the fields gRPC interprets (``interpretedNames``) unless the caller asked for all
    /// of them or the response is Trailers-Only (then this block is the status and its details).
    package var headers: [(name: String, value: String)]
    /// The trailing header block, empty if none arrived; every field (trailers are few, and an
    /// error's details travel here).
    package var trailers: [(name: String, value: String)]
    /// Whether a trailing header block arrived (even one without interpreted fields).
    package var hasTrailers: Bool
    /// All DATA bytes received.
    package var body: [UInt8]

    /// The response fields the interpretation reads. Nothing reads the others, so the transport
    /// does not turn them into Strings: that was a third of the Swift string work of a call.
    package static let interpretedNames: [[UInt8]] = [
        ":status", "content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-retry-pushback-ms",
        "grpc-status-details-bin",
    ].map { Array($0.utf8) }

    /// Creates a result.
    package init(
        outcome: Outcome,
        headers: [(name: String, value: String)] = [],
        trailers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.outcome = outcome
        self.headers = headers
        self.trailers = trailers
        self.hasTrailers = !trailers.isEmpty
        self.body = body
    }

    /// Copies a result out of the shim's callback (its memory is gone once the callback returns);
    /// `keepingAllHeaders` keeps response headers gRPC does not interpret (the caller reads them).
    init(copying result: UnsafePointer<h2shim_result>, keepingAllHeaders: Bool) {
        let r = result.pointee
        let detail = r.detail.map { String(cString: $0) }
        switch r.outcome {
        case H2SHIM_COMPLETE: outcome = .complete
        case H2SHIM_RESET: outcome = .reset(errorCode: r.reset_code)
        case H2SHIM_NOT_SENT: outcome = .notSent(reason: detail ?? "request not sent")
        case H2SHIM_CONNECTION_LOST: outcome = .connectionLost(reason: detail ?? "connection lost")
        case H2SHIM_DEADLINE_EXCEEDED: outcome = .deadlineExceeded
        case H2SHIM_CANCELLED: outcome = .cancelled
        case H2SHIM_RESPONSE_TOO_LARGE: outcome = .responseTooLarge
        case H2SHIM_HEADERS_TOO_LARGE: outcome = .headersTooLarge
        default: outcome = .connectionLost(reason: "unknown transport outcome \(r.outcome.rawValue)")
        }
        headers = Self.copy(r.headers, count: r.header_count, all: keepingAllHeaders || r.trailer_count == 0)
        trailers = Self.copy(r.trailers, count: r.trailer_count, all: true)
        hasTrailers = r.trailer_count > 0
        body = r.body_len > 0 ? Array(UnsafeBufferPointer(start: r.body, count: r.body_len)) : []
    }

    private static func isInterpreted(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = name.baseAddress else { return false }
        for candidate in interpretedNames where candidate.count == name.count {
            if candidate.withUnsafeBufferPointer({ memcmp($0.baseAddress!, start, name.count) == 0 }) { return true }
        }
        return false
    }

    private static func copy(_ fields: UnsafePointer<h2shim_header>?, count: Int, all: Bool) -> [(name: String, value: String)] {
        guard let fields, count > 0 else { return [] }
        var result: [(name: String, value: String)] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let field = fields[index]
            let name = UnsafeBufferPointer(start: field.name, count: field.name_len)
            guard all || isInterpreted(name) else { continue }
            result.append((
                String(decoding: name, as: UTF8.self),
                String(decoding: UnsafeBufferPointer(start: field.value, count: field.value_len), as: UTF8.self)
            ))
        }
        return result
    }
}
