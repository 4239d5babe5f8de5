@testable import GRPCWire
import Testing

@Suite struct RequestHeadTests {
    @Test func headersFollowTheSpecOrder() throws {
        var metadata = GRPCMetadata()
        try metadata.append("x-request-id", .text("abc"))
        try metadata.append("trace-bin", .binary([0xFF, 0x00, 0x10]))
        let builder = GRPCRequestHeadBuilder(scheme: "http", authority: "127.0.0.1:50051", userAgent: "conductor-grpc-swift/1.2.3")
        let fields = builder.headers(path: "/chorus.ConductorBridge/GetDayProof", timeout: .seconds(5),
                                     previousAttempts: 2, metadata: metadata).fields
        #expect(fields.map(\.name) == [":method", ":scheme", ":path", ":authority", "grpc-timeout", "content-type",
                                       "te", "user-agent", "grpc-previous-rpc-attempts", "x-request-id", "trace-bin"])
        #expect(fields.map(\.value) == ["POST", "http", "/chorus.ConductorBridge/GetDayProof", "127.0.0.1:50051",
                                        "5000000u", "application/grpc", "trailers",
                                        "conductor-grpc-swift/1.2.3", "2", "abc", "/wAQ"])
    }

    @Test func compressedRequestsNameTheirEncoding() {
        let fields = GRPCRequestHeadBuilder(scheme: "http", authority: "h:1", userAgent: "u", compression: .gzip)
            .headers(path: "/p", timeout: nil).fields
        #expect(fields.first { $0.name == "grpc-encoding" }?.value == "gzip")
        #expect(fields.first { $0.name == "grpc-accept-encoding" }?.value == "gzip,deflate")
        let plain = GRPCRequestHeadBuilder(scheme: "http", authority: "h:1", userAgent: "u").headers(path: "/p", timeout: nil).fields
        #expect(!plain.contains { $0.name == "grpc-encoding" || $0.name == "grpc-accept-encoding" })
    }

    @Test func noTimeoutMeansNoHeader() {
        let fields = GRPCRequestHeadBuilder(scheme: "http", authority: "h:1", userAgent: "u").headers(path: "/p", timeout: nil).fields
        #expect(!fields.contains { $0.name == "grpc-timeout" })
        #expect(!fields.contains { $0.name == "grpc-previous-rpc-attempts" })
    }

    @Test func metadataRules() {
        var metadata = GRPCMetadata()
        #expect(throws: GRPCMetadata.ValidationError.invalidName("X-Upper")) { try metadata.append("X-Upper", .text("v")) }
        #expect(throws: GRPCMetadata.ValidationError.reservedName("grpc-status")) { try metadata.append("grpc-status", .text("0")) }
        #expect(throws: GRPCMetadata.ValidationError.binarySuffixMismatch(name: "key")) { try metadata.append("key", .binary([1])) }
        #expect(throws: GRPCMetadata.ValidationError.binarySuffixMismatch(name: "key-bin")) { try metadata.append("key-bin", .text("x")) }
        #expect(throws: GRPCMetadata.ValidationError.invalidTextValue(name: "key")) { try metadata.append("key", .text("a\nb")) }
        #expect(metadata.entries.isEmpty)
    }

    @Test func base64PaddedAndUnpadded() {
        #expect(Base64.encodeUnpadded(Array("f".utf8)) == "Zg")
        #expect(Base64.encodeUnpadded(Array("fo".utf8)) == "Zm8")
        #expect(Base64.encodeUnpadded(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.decode("Zg") == Array("f".utf8))
        #expect(Base64.decode("Zg==") == Array("f".utf8))
        #expect(Base64.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64.decode("Zm9v") == Array("foo".utf8))
        #expect(Base64.decode("Z") == nil)
        #expect(Base64.decode("Zg=x") == nil)
        #expect(Base64.decode("Z!==") == nil)
        let bytes = (0..<256).map { UInt8($0) }
        #expect(Base64.decode(Base64.encodeUnpadded(bytes)) == bytes)
    }
}
