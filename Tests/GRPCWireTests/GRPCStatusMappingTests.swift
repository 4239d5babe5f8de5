@testable import GRPCWire
import Testing

@Suite struct GRPCStatusMappingTests {
    @Test(arguments: [
        (400, GRPCStatusCode.internalError), (401, .unauthenticated), (403, .permissionDenied),
        (404, .unimplemented), (429, .unavailable), (502, .unavailable), (503, .unavailable),
        (504, .unavailable), (431, .unknown), (500, .unknown), (302, .unknown),
    ])
    func httpStatus(_ status: Int, _ expected: GRPCStatusCode) {
        #expect(GRPCStatusMapping.code(forHTTPStatus: status) == expected)
    }

    @Test func everyHTTP2ErrorCode() {
        let expected: [HTTP2ErrorCode: GRPCStatusCode] = [
            .noError: .internalError, .protocolError: .internalError, .internalError: .internalError,
            .flowControlError: .internalError, .settingsTimeout: .internalError, .streamClosed: .internalError,
            .frameSizeError: .internalError, .refusedStream: .unavailable, .cancel: .cancelled,
            .compressionError: .internalError, .connectError: .internalError,
            .enhanceYourCalm: .resourceExhausted, .inadequateSecurity: .permissionDenied,
            .http11Required: .internalError,
        ]
        for code in HTTP2ErrorCode.allCases {
            #expect(GRPCStatusMapping.code(forHTTP2ErrorCode: code.rawValue) == expected[code], "\(code.name)")
        }
        #expect(GRPCStatusMapping.code(forHTTP2ErrorCode: 0x99) == .internalError)
    }

    @Test func grpcStatusValues() {
        #expect(GRPCStatusCode(grpcStatusValue: "0") == .ok)
        #expect(GRPCStatusCode(grpcStatusValue: "5") == .notFound)
        #expect(GRPCStatusCode(grpcStatusValue: "16") == .unauthenticated)
        #expect(GRPCStatusCode(grpcStatusValue: "17") == .unknown)
        #expect(GRPCStatusCode(grpcStatusValue: "-1") == .unknown)
        #expect(GRPCStatusCode(grpcStatusValue: "abc") == .unknown)
        #expect(GRPCStatusCode(grpcStatusValue: "") == .unknown)
    }
}
