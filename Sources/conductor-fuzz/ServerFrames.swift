import CNGHTTP2

/// Turns a fuzz input into HTTP/2 frames a server could send: a structure-aware generator, so the
/// fuzzer spends its time in the client's frame, header and stream handling rather than failing
/// the frame header. Each frame takes a kind, flags, a stream (mostly the client's own 1, 3, 5)
/// and a length-prefixed payload from the input. Header blocks are HPACK-encoded with nghttp2's
/// deflater from fields a gRPC server sends (and some it should not), or passed raw.
struct ServerFrames {
    private var reader: ByteReader
    private let deflater: OpaquePointer

    init(_ input: [UInt8]) {
        reader = ByteReader(input)
        var deflater: OpaquePointer?
        guard nghttp2_hd_deflate_new(&deflater, 4096) == 0, let deflater else { fatalError("nghttp2_hd_deflate_new failed") }
        self.deflater = deflater
    }

    /// The server's bytes: its SETTINGS first (as a real server would), then the generated frames.
    mutating func bytes() -> [UInt8] {
        defer { nghttp2_hd_deflate_del(deflater) }
        var out = Self.frame(type: 0x4, flags: 0, stream: 0, payload: [])
        while let kind = reader.byte() {
            let flags = reader.byte() ?? 0
            let stream = Self.streams[Int(reader.byte() ?? 0) % Self.streams.count]
            switch kind % 10 {
            case 0: out += Self.frame(type: 0x0, flags: flags & 0x09, stream: stream, payload: payload())
            case 1: out += Self.frame(type: 0x1, flags: flags & 0x2D | 0x04, stream: stream, payload: headerBlock())
            case 2: out += Self.frame(type: 0x1, flags: flags & 0x2D, stream: stream, payload: payload())
            case 3: out += Self.frame(type: 0x3, flags: 0, stream: stream, payload: Self.word(UInt32(reader.byte() ?? 0) % 14))
            case 4: out += Self.frame(type: 0x4, flags: flags & 0x01, stream: 0, payload: settings())
            case 5: out += Self.frame(type: 0x6, flags: flags & 0x01, stream: 0, payload: Array(payload().prefix(8)) + [UInt8](repeating: 0, count: 8))
            case 6: out += Self.frame(type: 0x7, flags: 0, stream: 0,
                                      payload: Self.word(stream) + Self.word(UInt32(reader.byte() ?? 0) % 14) + payload())
            case 7: out += Self.frame(type: 0x8, flags: 0, stream: stream, payload: Self.word(UInt32(reader.byte() ?? 0) << 8))
            case 8: out += Self.frame(type: 0x9, flags: flags & 0x04, stream: stream, payload: headerBlock())
            default:
                let message = payload()
                out += Self.frame(type: 0x0, flags: flags & 0x01, stream: stream, payload: [0] + Self.word(UInt32(message.count)) + message)
            }
        }
        return out
    }

    /// The client's streams are 1, 3 and 5; 0, 7 and 2 are streams it never opened.
    private static let streams: [UInt32] = [1, 3, 5, 1, 3, 5, 0, 7, 2]

    private static let fields: [(String, String?)] = [
        (":status", "200"), (":status", nil), ("content-type", "application/grpc"), ("content-type", nil),
        ("grpc-status", "0"), ("grpc-status", nil), ("grpc-message", nil), ("grpc-encoding", "gzip"),
        ("grpc-retry-pushback-ms", nil), ("x-custom", nil), ("grpc-status-details-bin", nil), (":path", "/x"),
    ]

    private mutating func headerBlock() -> [UInt8] {
        let count = Int(reader.byte() ?? 0) % 6 + 1
        var flat: [UInt8] = []
        var spans: [(name: Range<Int>, value: Range<Int>)] = []
        for _ in 0..<count {
            let (name, fixed) = Self.fields[Int(reader.byte() ?? 0) % Self.fields.count]
            let start = flat.count
            flat += name.utf8
            let middle = flat.count
            flat += fixed.map { Array($0.utf8) } ?? reader.take(Int(reader.byte() ?? 0) % 20)
            spans.append((start..<middle, middle..<flat.count))
        }
        return flat.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return [] }
            var nva = spans.map { span in
                nghttp2_nv(name: base + span.name.lowerBound, value: base + span.value.lowerBound, namelen: span.name.count,
                           valuelen: span.value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            let bound = nghttp2_hd_deflate_bound(deflater, &nva, nva.count)
            var block = [UInt8](repeating: 0, count: bound)
            let written = nghttp2_hd_deflate_hd(deflater, &block, bound, &nva, nva.count)
            return written > 0 ? Array(block.prefix(written)) : []
        }
    }

    private mutating func settings() -> [UInt8] {
        var payload: [UInt8] = []
        for _ in 0..<(Int(reader.byte() ?? 0) % 3) {
            let identifier = UInt16(reader.byte() ?? 0) % 7 + 1
            payload += [UInt8(identifier >> 8), UInt8(identifier & 0xFF)] + Self.word(UInt32(reader.byte() ?? 0) << UInt32((reader.byte() ?? 0) % 24))
        }
        return payload
    }

    private mutating func payload() -> [UInt8] {
        reader.take(Int(reader.byte() ?? 0))
    }

    private static func word(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    private static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
                type, flags] + word(stream & 0x7FFF_FFFF) + payload
    }
}
