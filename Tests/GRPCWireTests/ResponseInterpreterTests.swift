@testable import GRPCWire
import Testing

@Suite struct ResponseInterpreterTests {
    private let okHeaders = [(":status", "200"), ("content-type", "application/grpc")].map { (name: $0.0, value: $0.1) }

    private func interpret(_ stream: HTTP2StreamResult, limit: Int = 1024) -> GRPCUnaryResponse {
        GRPCResponseInterpreter.interpret(stream, maximumMessageLength: limit)
    }

    private func failure(_ response: GRPCUnaryResponse) -> GRPCUnaryResponse.Failure? {
        if case .failure(let failure) = response.result { return failure }
        return nil
    }

    @Test func headersDataTrailers() throws {
        let stream = HTTP2StreamResult(outcome: .complete, headers: okHeaders,
                                       trailers: [("grpc-status", "0")], body: GRPCMessageFramer.frame([1, 2, 3]))
        #expect(try interpret(stream).result.get() == [1, 2, 3])
    }

    @Test func trailersOnlyCarriesTheStatus() {
        let stream = HTTP2StreamResult(outcome: .complete, headers: okHeaders + [("grpc-status", "5"), ("grpc-message", "no%20proof")])
        let result = failure(interpret(stream))
        #expect(result?.status == GRPCStatus(code: .notFound, message: "no proof"))
        #expect(result?.provablyNotProcessed == false)
    }

    @Test func statusComesFromTrailersEvenForOK() {
        let missing = HTTP2StreamResult(outcome: .complete, headers: okHeaders, body: GRPCMessageFramer.frame([1]))
        let withTrailers = HTTP2StreamResult(outcome: .complete, headers: okHeaders, trailers: [("x", "y")], body: GRPCMessageFramer.frame([1]))
        #expect(failure(interpret(missing))?.status.code == .unknown)
        #expect(failure(interpret(withTrailers))?.status.code == .unknown)
        // The transport keeps only interpreted fields: a trailer block of other fields arrives empty,
        // and must still count as trailers (a status in the headers is then not the status).
        var filtered = HTTP2StreamResult(outcome: .complete, headers: okHeaders + [("grpc-status", "0")],
                                         body: GRPCMessageFramer.frame([1]))
        filtered.hasTrailers = true
        #expect(failure(interpret(filtered))?.status.code == .unknown)
        #expect(HTTP2StreamResult.interpretedNames.map { String(decoding: $0, as: UTF8.self) }.sorted()
                == [":status", "content-type", "grpc-encoding", "grpc-message", "grpc-retry-pushback-ms", "grpc-status", "grpc-status-details-bin"])
    }

    @Test func httpStatusIsMappedOnlyWithoutGRPCStatus() {
        let unavailable = HTTP2StreamResult(outcome: .complete, headers: [(":status", "503"), ("content-type", "text/html")])
        #expect(failure(interpret(unavailable))?.status.code == .unavailable)
        let withStatus = HTTP2StreamResult(outcome: .complete, headers: [(":status", "503"), ("grpc-status", "7")])
        #expect(failure(interpret(withStatus))?.status.code == .permissionDenied)
        let html = HTTP2StreamResult(outcome: .complete, headers: [(":status", "200"), ("content-type", "text/html")])
        #expect(failure(interpret(html))?.status.code == .unknown)
    }

    @Test func resetsAndTransportOutcomes() {
        let refused = failure(interpret(HTTP2StreamResult(outcome: .reset(errorCode: 7))))
        #expect(refused?.status.code == .unavailable)
        #expect(refused?.provablyNotProcessed == true)
        #expect(failure(interpret(HTTP2StreamResult(outcome: .reset(errorCode: 8))))?.status.code == .cancelled)
        #expect(failure(interpret(HTTP2StreamResult(outcome: .reset(errorCode: 0))))?.status.code == .internalError)
        let notSent = failure(interpret(HTTP2StreamResult(outcome: .notSent(reason: "connect failed"))))
        #expect(notSent?.status == GRPCStatus(code: .unavailable, message: "connect failed"))
        #expect(notSent?.provablyNotProcessed == true)
        let lost = failure(interpret(HTTP2StreamResult(outcome: .connectionLost(reason: "gone"))))
        #expect(lost?.status.code == .unavailable)
        #expect(lost?.provablyNotProcessed == false)
        #expect(failure(interpret(HTTP2StreamResult(outcome: .deadlineExceeded)))?.status.code == .deadlineExceeded)
        #expect(failure(interpret(HTTP2StreamResult(outcome: .responseTooLarge)))?.status.code == .resourceExhausted)
    }

    @Test func malformedBodies() {
        func body(_ bytes: [UInt8]) -> HTTP2StreamResult {
            HTTP2StreamResult(outcome: .complete, headers: okHeaders, trailers: [("grpc-status", "0")], body: bytes)
        }
        #expect(failure(interpret(body([])))?.status.code == .internalError)
        #expect(failure(interpret(body([0, 0, 0, 0, 9, 1])))?.status.code == .internalError)
        #expect(failure(interpret(body([1, 0, 0, 0, 1, 1])))?.status.code == .internalError)
        #expect(failure(interpret(body([0, 0x80, 0, 0, 0])))?.status.code == .resourceExhausted)
        #expect(failure(interpret(body(GRPCMessageFramer.frame([1]) + GRPCMessageFramer.frame([2]))))?.status.code == .internalError)
    }

    @Test func retryPushback() {
        func pushback(_ value: String) -> GRPCUnaryResponse.RetryPushback? {
            let stream = HTTP2StreamResult(outcome: .complete, headers: okHeaders,
                                           trailers: [("grpc-status", "14"), ("grpc-retry-pushback-ms", value)])
            return failure(interpret(stream))?.retryPushback
        }
        #expect(pushback("250") == .retryAfter(.milliseconds(250)))
        #expect(pushback("-1") == .doNotRetry)
        #expect(pushback("soon") == .doNotRetry)
    }
}
