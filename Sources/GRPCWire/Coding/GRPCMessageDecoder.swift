/// Reassembles length-prefixed gRPC messages from bytes that arrive in arbitrary pieces: a message
/// may span several DATA frames and one frame may carry several messages.
package struct GRPCMessageDecoder: Sendable {
    /// Why the received bytes cannot be decoded.
    package enum DecodingError: Error, Equatable, Sendable {
        /// A message announced more bytes than the receive limit allows.
        case messageTooLarge(length: Int, limit: Int)
        /// The flag byte was neither 0 nor 1.
        case invalidFlag(UInt8)
        /// The stream ended inside a message (prefix or body incomplete).
        case truncated(missingBytes: Int)
    }

    private let maximumMessageLength: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// Creates a decoder that rejects messages longer than `maximumMessageLength` bytes.
    package init(maximumMessageLength: Int) {
        self.maximumMessageLength = maximumMessageLength
    }

    /// Adds received bytes.
    package mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0, readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes held in an array. Not generic: a caller in another module would
    /// otherwise run the unspecialized generic append.
    package mutating func append(_ bytes: [UInt8]) {
        append(bytes[...])
    }

    /// One message as received: its bytes and whether its flag says they are compressed.
    package struct Frame: Equatable, Sendable {
        package var compressed: Bool
        package var message: [UInt8]
    }

    /// Returns the next complete message, or nil when more bytes are needed. The limit applies to
    /// the bytes as received (a compressed message is inflated, and bounded again, by the caller).
    package mutating func next() throws(DecodingError) -> Frame? {
        let available = buffer.count - readIndex
        guard available >= GRPCMessageFramer.prefixLength else { return nil }
        let flag = buffer[readIndex]
        guard flag <= 1 else { throw .invalidFlag(flag) }
        let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
            | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
        guard length <= maximumMessageLength else {
            throw .messageTooLarge(length: length, limit: maximumMessageLength)
        }
        guard available >= GRPCMessageFramer.prefixLength + length else { return nil }
        let start = readIndex + GRPCMessageFramer.prefixLength
        let message = Array(buffer[start..<start + length])
        readIndex = start + length
        return Frame(compressed: flag == 1, message: message)
    }

    /// Call when the stream has ended: throws if a partial message is left over.
    package func finish() throws(DecodingError) {
        let available = buffer.count - readIndex
        guard available > 0 else { return }
        if available < GRPCMessageFramer.prefixLength {
            throw .truncated(missingBytes: GRPCMessageFramer.prefixLength - available)
        }
        let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
            | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
        throw .truncated(missingBytes: GRPCMessageFramer.prefixLength + length - available)
    }
}
