import CRESTShim
import GRPCWire

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP error answer as the status the gRPC client would have received
/// (conductor-rest-contract.md, "Status codes"), so that the retry rules, the breaker and the cache
/// read it exactly as they read a gRPC status.
struct RESTStatusMapping {
    var code: ConductorError.Code
    var message: String
    /// `grpc-retry-pushback-ms`: a `retry-after` (429), or -1 for "never retry" where the contract
    /// says so of a code gRPC would retry (413, 431).
    var pushbackMilliseconds: Int64?

    /// Longest error message taken from a body.
    static let maximumMessageLength = 512

    init(status: Int, method: ConductorMethod, response: RESTResponse, now: () -> Int64 = { Int64(time(nil)) }) {
        pushbackMilliseconds = nil
        switch status {
        case 300..<400:
            code = .unknown
            message = "redirect to \(response.location ?? "(no location)") not followed"
            return
        case 400, 422: code = .invalidArgument
        case 401: code = .unauthenticated
        case 403: code = .permissionDenied
        case 404 where method == .getDayProof && RESTJSON.isJSONObjectOrArray(response.body): code = .notFound
        case 404, 405, 501: code = .unimplemented
        case 408, 502, 503, 504: code = .unavailable
        case 409: code = .aborted
        case 413, 431:
            code = .resourceExhausted
            pushbackMilliseconds = -1
        case 415, 500: code = .internalError
        case 429:
            code = .resourceExhausted
            pushbackMilliseconds = response.retryAfter.flatMap { Self.retryAfterMilliseconds($0, now: now()) }
        default: code = .unknown
        }
        message = Self.message(status: status, body: response.body)
    }

    /// The conductor's own words when an error body is JSON with a `detail` or `message` (as a
    /// gRPC conductor's `grpc-message`), else the status and the body's first bytes as text.
    static func message(status: Int, body: [UInt8]) -> String {
        if let detail = RESTJSON.errorMessage(body) { return cut(detail.trimmingWhitespace()) }
        let text = cut(String(decoding: body.prefix(maximumMessageLength + 1), as: UTF8.self).trimmingWhitespace())
        return text.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(text)"
    }

    private static func cut(_ text: String) -> String {
        text.count > maximumMessageLength ? String(text.prefix(maximumMessageLength)) + "…" : text
    }

    /// `retry-after` as delay-seconds or an HTTP date (parsed by libcurl); anything else is ignored.
    static func retryAfterMilliseconds(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingWhitespace()
        if let seconds = Int64(text) {
            return seconds >= 0 && seconds < 86_400 * 365 ? seconds * 1000 : nil
        }
        let date = rest_parse_http_date(text)
        guard date > 0 else { return nil }
        return max(date - now, 0) * 1000
    }
}
