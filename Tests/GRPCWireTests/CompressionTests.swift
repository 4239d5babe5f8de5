@testable import GRPCWire
import Testing

@Suite struct CompressionTests {
    private static let okHeaders: [(name: String, value: String)] = [(":status", "200"), ("content-type", "application/grpc")]

    private func interpret(_ body: [UInt8], encoding: String?, limit: Int = 1 << 20) -> GRPCUnaryResponse {
        var headers = Self.okHeaders
        if let encoding { headers.append(("grpc-encoding", encoding)) }
        let stream = HTTP2StreamResult(outcome: .complete, headers: headers, trailers: [("grpc-status", "0")], body: body)
        return GRPCResponseInterpreter.interpret(stream, maximumMessageLength: limit)
    }

    private func failure(_ response: GRPCUnaryResponse) -> GRPCStatus? {
        if case .failure(let failure) = response.result { failure.status } else { nil }
    }

    @Test(arguments: GRPCCompression.allCases)
    func compressedAnswersDecode(_ compression: GRPCCompression) throws {
        let message = Array(repeating: Array("day proof ".utf8), count: 500).flatMap { $0 }
        let framed = compression.compressFramed(GRPCMessageFramer.frame(message))
        #expect(framed[0] == 1)
        #expect(framed.count < message.count / 10)
        #expect(try interpret(framed, encoding: compression.rawValue).result.get() == message)
        #expect(try interpret(framed, encoding: compression.rawValue.uppercased()).result.get() == message)
    }

    @Test func aCompressionBombStopsAtTheReceiveLimit() {
        let bomb = GRPCCompression.gzip.compressFramed(GRPCMessageFramer.frame([UInt8](repeating: 0, count: 64 << 20)))
        #expect(bomb.count < 128 << 10, "64 MiB of zeros compress to about 64 KiB")
        let status = failure(interpret(bomb, encoding: "gzip", limit: 4 << 20))
        #expect(status?.code == .resourceExhausted)
        #expect(status?.message == "decompressed response message exceeds the receive limit of 4194304 bytes")
    }

    @Test func corruptUnknownOrUndeclaredCompressionFailsTheCall() {
        var corrupt = GRPCCompression.gzip.compressFramed(GRPCMessageFramer.frame(Array("hello".utf8)))
        corrupt[corrupt.count - 6] ^= 0xFF // inside the CRC-32 that ends a gzip stream
        #expect(failure(interpret(corrupt, encoding: "gzip")) == GRPCStatus(code: .internalError, message: "response message is not valid gzip data"))
        let truncated = Array(GRPCCompression.deflate.compressFramed(GRPCMessageFramer.frame(Array(repeating: 7, count: 1000))))
        var shortened = Array(truncated.dropLast(4))
        let length = UInt32(shortened.count - 5)
        shortened[1...4] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        #expect(failure(interpret(shortened, encoding: "deflate"))?.code == .internalError)
        let framed = GRPCCompression.gzip.compressFramed(GRPCMessageFramer.frame([1, 2, 3]))
        #expect(failure(interpret(framed, encoding: "snappy"))
                == GRPCStatus(code: .internalError, message: "compressed response message with unsupported grpc-encoding \"snappy\""))
        #expect(failure(interpret(framed, encoding: nil))
                == GRPCStatus(code: .internalError, message: "compressed response message with no grpc-encoding"))
        #expect(failure(interpret(framed, encoding: "identity"))?.code == .internalError)
    }

    @Test func uncompressedAnswersIgnoreTheEncodingHeader() throws {
        #expect(try interpret(GRPCMessageFramer.frame([9, 9]), encoding: "gzip").result.get() == [9, 9])
    }
}
