import CZlib

/// The message compressions gRPC defines and this client speaks, with zlib: `gzip` (RFC 1952)
/// and `deflate` (gRPC's name for the zlib format, RFC 1950).
package enum GRPCCompression: String, Sendable, CaseIterable {
    case gzip
    case deflate

    /// Why a compressed message cannot be read.
    package enum DecompressionError: Error, Equatable, Sendable {
        /// The message inflates past the receive limit (a compression bomb stops here, at the limit).
        case tooLarge(limit: Int)
        /// The bytes are not valid for this compression.
        case corrupt
    }

    /// `grpc-accept-encoding`: every compression this client can read.
    package static let acceptEncoding = allCases.map(\.rawValue).joined(separator: ",")

    /// The compression named by a `grpc-encoding` value, or nil for one this client does not speak.
    package init?(encodingName: String) {
        self.init(rawValue: encodingName.lowercased())
    }

    /// zlib's windowBits for this format: 15 (zlib header) plus 16 for a gzip header.
    private var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }

    /// Compresses `bytes`.
    package func compress(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            preconditionFailure("zlib could not allocate a deflate stream")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))))
        let written = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let status = CZlib.deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflateBound was too small")
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses `bytes`, failing as soon as the output would pass `limit` bytes.
    package func decompress(_ bytes: [UInt8], limit: Int) throws(DecompressionError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            preconditionFailure("zlib could not allocate an inflate stream")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let finished: Bool? = bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.avail_out))
                }
                guard status == Z_OK || status == Z_STREAM_END else { return false }
                if output.count + produced > limit { return nil }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END { return stream.avail_in == 0 }
                if produced == 0 && stream.avail_in == 0 { return false } // input ended inside the stream
            }
        }
        switch finished {
        case .some(true): return output
        case .some(false): throw .corrupt
        case .none: throw .tooLarge(limit: limit)
        }
    }

    /// A framed message (5-byte prefix, flag 0) compressed and framed again with flag 1.
    package func compressFramed(_ framed: [UInt8]) -> [UInt8] {
        var compressed = GRPCMessageFramer.frame(compress(Array(framed.dropFirst(GRPCMessageFramer.prefixLength))))
        compressed[0] = 1
        return compressed
    }
}
