@testable import ConductorGRPC
import GRPCWire
import Testing

/// Every row of conductor-rest-contract.md's status table, through the same translation a call uses.
@Suite struct RESTStatusMappingTests {
    private func response(_ status: Int, body: String = "", retryAfter: String? = nil, location: String? = nil) -> RESTResponse {
        RESTResponse(outcome: .complete, status: status, body: Array(body.utf8), retryAfter: retryAfter, location: location)
    }

    private func mapped(_ status: Int, _ method: ConductorMethod = .submitEvent, body: String = "",
                        retryAfter: String? = nil, location: String? = nil) -> RESTStatusMapping {
        RESTStatusMapping(status: status, method: method,
                          response: response(status, body: body, retryAfter: retryAfter, location: location), now: { 1_000_000 })
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var status: Int
        var code: ConductorError.Code
        var testDescription: String { "\(status) → \(code)" }
    }

    static let rows: [Row] = [
        Row(status: 400, code: .invalidArgument), Row(status: 422, code: .invalidArgument),
        Row(status: 401, code: .unauthenticated), Row(status: 403, code: .permissionDenied),
        Row(status: 404, code: .unimplemented), Row(status: 405, code: .unimplemented), Row(status: 501, code: .unimplemented),
        Row(status: 408, code: .unavailable), Row(status: 409, code: .aborted),
        Row(status: 413, code: .resourceExhausted), Row(status: 431, code: .resourceExhausted),
        Row(status: 415, code: .internalError), Row(status: 429, code: .resourceExhausted), Row(status: 500, code: .internalError),
        Row(status: 502, code: .unavailable), Row(status: 503, code: .unavailable), Row(status: 504, code: .unavailable),
        Row(status: 418, code: .unknown), Row(status: 507, code: .unknown), Row(status: 301, code: .unknown),
        Row(status: 307, code: .unknown),
    ]

    @Test(arguments: rows)
    func statusMapsToTheContractsCode(_ row: Row) {
        #expect(mapped(row.status).code == row.code)
    }

    @Test func notFoundIsADayWithoutProofOnlyWithAJSONBodyOnTheDayProofRoute() {
        #expect(mapped(404, .getDayProof, body: #"{"detail":"no proof for day 9"}"#).code == .notFound)
        #expect(mapped(404, .getDayProof, body: "<html>Not Found</html>").code == .unimplemented)
        #expect(mapped(404, .getDayProof).code == .unimplemented)
        #expect(mapped(404, .submitEvent, body: #"{"detail":"x"}"#).code == .unimplemented)
    }

    @Test func theMessageIsTheBodysDetailOrMessageOrItsFirstBytes() {
        #expect(mapped(400, body: #"{"detail":"event 2: epoch is negative","other":1}"#).message == "event 2: epoch is negative")
        #expect(mapped(500, body: #"{"message":"database down"}"#).message == "database down")
        #expect(mapped(500, body: #"{"error":"database down"}"#).message == #"HTTP 500: {"error":"database down"}"#)
        #expect(mapped(502, body: "  Bad Gateway\n").message == "HTTP 502: Bad Gateway")
        #expect(mapped(503).message == "HTTP 503")
        let long = mapped(500, body: String(repeating: "x", count: 5000)).message
        #expect(long.count <= RESTStatusMapping.maximumMessageLength + 20)
    }

    @Test func redirectsAreNotFollowedAndSaySo() {
        let redirect = mapped(302, location: "http://elsewhere/day-proof/1")
        #expect(redirect.message == "redirect to http://elsewhere/day-proof/1 not followed")
    }

    @Test func retryAfterOnA429IsThePushbackInSecondsOrAsAnHTTPDate() {
        #expect(mapped(429, retryAfter: "3").pushbackMilliseconds == 3000)
        #expect(mapped(429, retryAfter: " 0 ").pushbackMilliseconds == 0)
        // 1_000_000 s after the epoch is Mon, 12 Jan 1970 13:46:40 GMT; ten seconds later:
        #expect(mapped(429, retryAfter: "Mon, 12 Jan 1970 13:46:50 GMT").pushbackMilliseconds == 10_000)
        #expect(mapped(429, retryAfter: "Mon, 12 Jan 1970 13:46:00 GMT").pushbackMilliseconds == 0)
        #expect(mapped(429, retryAfter: "soon").pushbackMilliseconds == nil)
        #expect(mapped(429, retryAfter: "-5").pushbackMilliseconds == nil)
        #expect(mapped(429).pushbackMilliseconds == nil)
        #expect(mapped(503, retryAfter: "3").pushbackMilliseconds == nil)
    }

    @Test func tooLargeRequestsAreNeverRetriedThoughGRPCWouldRetryTheirCode() {
        #expect(mapped(413).pushbackMilliseconds == -1)
        #expect(mapped(431).pushbackMilliseconds == -1)
    }

    @Test func healthAnswersAreServingNotServingOrUnimplemented() throws {
        let outgoing = RESTTranslation.Outgoing(method: .healthCheck, path: "/health", post: false, body: [], eventCount: 0)
        func status(_ code: Int) -> String? {
            let answer = RESTTranslation.answer(response(code), to: outgoing, origin: "test", maximumResponseBytes: .max)
            return (answer.headers + answer.trailers).first { $0.name == "grpc-status" }?.value
        }
        #expect(status(200) == "0")
        #expect(status(503) == "0")
        #expect(status(404) == String(ConductorError.Code.unimplemented.rawValue))
        #expect(status(500) == String(ConductorError.Code.internalError.rawValue))
    }

    /// `CONDUCTOR_MAX_MESSAGE_BYTES` bounds the message, not its JSON: escaped text makes JSON up
    /// to six times larger than the message it carries.
    @Test func theReceiveLimitAppliesToTheMessageNotToItsJSON() {
        let outgoing = RESTTranslation.Outgoing(method: .getDayProof, path: "/day-proof/1", post: false, body: [], eventCount: 0)
        func answer(proof: String, limit: Int) -> HTTP2StreamResult {
            let json = #"{"day_number":1,"proof":"\#(proof)","proof_hash":"h","canonical":true,"source":"s"}"#
            return RESTTranslation.answer(response(200, body: json), to: outgoing, origin: "test", maximumResponseBytes: limit)
        }
        let escaped = String(repeating: #"\u0001"#, count: 1_000) // 6,000 bytes of JSON, 1,000 of message
        let fits = answer(proof: escaped, limit: 1_100)
        #expect(fits.outcome == .complete)
        #expect(fits.body.count <= 1_100, "the framed message: \(fits.body.count) bytes")
        #expect(answer(proof: String(repeating: "a", count: 1_200), limit: 1_100).outcome == .responseTooLarge)
        #expect(RESTTranslation.jsonAllowance(forMaximumResponseBytes: 1_100) >= 6_000 + 100,
                "the transfer may bring the escaped JSON of a message within the limit")
        #expect(RESTTranslation.jsonAllowance(forMaximumResponseBytes: .max) == .max)
    }
}
