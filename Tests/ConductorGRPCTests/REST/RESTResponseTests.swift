@testable import ConductorGRPC
import GRPCWire
import Testing

/// What an HTTP/2 stream's end becomes as a REST answer (the lanes of `https://` servers that pick h2).
@Suite struct RESTResponseTests {
    private func answer(_ headers: [(name: String, value: String)], body: [UInt8] = [], allowance: Int = 1 << 20) -> RESTResponse {
        RESTResponse(http2: HTTP2StreamResult(outcome: .complete, headers: headers, body: body), allowance: allowance)
    }

    @Test func theStatusAndTheHeadersAnErrorMappingReadsAreTaken() {
        let response = answer([(":status", "429"), ("retry-after", "3"), ("location", "/x"), ("server", "h")], body: Array("{}".utf8))
        #expect(response.outcome == .complete)
        #expect(response.status == 429 && response.retryAfter == "3" && response.location == "/x")
        #expect(response.body == Array("{}".utf8))
    }

    @Test func gzipIsDecodedWithinTheAllowanceAndOtherCodingsPassAsTheyCame() {
        let json = Array(#"{"day_number":7}"#.utf8)
        let gzipped = GRPCCompression.gzip.compress(json)
        #expect(answer([(":status", "200"), ("content-encoding", "GZIP")], body: gzipped).body == json)
        #expect(answer([(":status", "200"), ("content-encoding", "gzip")], body: gzipped, allowance: 5).outcome == .responseTooLarge)
        #expect(answer([(":status", "304"), ("content-encoding", "gzip")]).outcome == .complete, "no body: nothing to decode")
        #expect(answer([(":status", "200"), ("content-encoding", "gzip")], body: json).outcome == .connectionLost, "not gzip")
        let brotli = answer([(":status", "200"), ("content-encoding", "br")], body: [1, 2, 3])
        #expect(brotli.outcome == .complete && brotli.body == [1, 2, 3], "the translation finds it is not JSON")
    }

    @Test func aRefusedStreamWasNotSentAndOtherResetsMayHaveBeenProcessed() {
        let refused = RESTResponse(http2: HTTP2StreamResult(outcome: .reset(errorCode: 7)), allowance: 1)
        #expect(refused.outcome == .notSent)
        let cancelled = RESTResponse(http2: HTTP2StreamResult(outcome: .reset(errorCode: 8)), allowance: 1)
        #expect(cancelled.outcome == .connectionLost && cancelled.detail.contains("error 8"))
        #expect(RESTResponse(http2: HTTP2StreamResult(outcome: .headersTooLarge), allowance: 1).outcome == .connectionLost)
    }
}
