@testable import GRPCWire
import Testing

@Suite struct GRPCMessageDecoderTests {
    private func framed(_ messages: [[UInt8]]) -> [UInt8] {
        messages.flatMap { GRPCMessageFramer.frame($0) }
    }

    @Test func framerWritesFlagAndBigEndianLength() {
        let bytes = GRPCMessageFramer.frame(Array(repeating: 7, count: 300))
        #expect(Array(bytes.prefix(5)) == [0, 0, 0, 1, 44])
        #expect(bytes.count == 305)
        #expect(GRPCMessageFramer.frame([]) == [0, 0, 0, 0, 0])
    }

    @Test func everySplitPointOfOneMessage() throws {
        let message = (0..<40).map { UInt8($0) }
        let bytes = framed([message])
        for split in 0...bytes.count {
            var decoder = GRPCMessageDecoder(maximumMessageLength: 1024)
            decoder.append(bytes[..<split])
            let early = try decoder.next()?.message
            if split < bytes.count { #expect(early == nil, "split \(split)") }
            decoder.append(bytes[split...])
            let decoded = try early ?? decoder.next()?.message
            #expect(decoded == message, "split \(split)")
            #expect(try decoder.next()?.message == nil)
            try decoder.finish()
        }
    }

    @Test func byteAtATime() throws {
        let messages: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 70)]
        var decoder = GRPCMessageDecoder(maximumMessageLength: 1024)
        var decoded: [[UInt8]] = []
        for byte in framed(messages) {
            decoder.append([byte])
            while let message = try decoder.next()?.message { decoded.append(message) }
        }
        #expect(decoded == messages)
        try decoder.finish()
    }

    @Test func severalMessagesInOneChunk() throws {
        let messages: [[UInt8]] = [[1], [2, 2], [3, 3, 3], []]
        var decoder = GRPCMessageDecoder(maximumMessageLength: 16)
        decoder.append(framed(messages))
        var decoded: [[UInt8]] = []
        while let message = try decoder.next()?.message { decoded.append(message) }
        #expect(decoded == messages)
    }

    @Test func truncatedInputIsReportedAtTheEnd() throws {
        var decoder = GRPCMessageDecoder(maximumMessageLength: 64)
        decoder.append([0, 0, 0, 0, 10, 1, 2, 3])
        #expect(try decoder.next()?.message == nil)
        #expect(throws: GRPCMessageDecoder.DecodingError.truncated(missingBytes: 7)) { try decoder.finish() }

        var prefixOnly = GRPCMessageDecoder(maximumMessageLength: 64)
        prefixOnly.append([0, 0, 0])
        #expect(throws: GRPCMessageDecoder.DecodingError.truncated(missingBytes: 2)) { try prefixOnly.finish() }
    }

    @Test func oversizeAnnouncementFailsBeforeTheBodyArrives() {
        var decoder = GRPCMessageDecoder(maximumMessageLength: 4 << 20)
        decoder.append([0, 0x80, 0, 0, 0]) // 2 GiB
        #expect(throws: GRPCMessageDecoder.DecodingError.messageTooLarge(length: 1 << 31, limit: 4 << 20)) { try decoder.next()?.message }
    }

    @Test func compressedFlagIsReportedAndBadFlagsFail() throws {
        var compressed = GRPCMessageDecoder(maximumMessageLength: 64)
        compressed.append([1, 0, 0, 0, 1, 0])
        #expect(try compressed.next() == GRPCMessageDecoder.Frame(compressed: true, message: [0]))
        var bad = GRPCMessageDecoder(maximumMessageLength: 64)
        bad.append([2, 0, 0, 0, 0])
        #expect(throws: GRPCMessageDecoder.DecodingError.invalidFlag(2)) { try bad.next() }
    }
}
