/// Writes the gRPC length-prefixed message framing: one flag byte (0: not compressed), then the
/// message length as a 4-byte big-endian integer, then the message.
package enum GRPCMessageFramer {
    /// The size of the prefix in front of every message.
    package static let prefixLength = 5

    /// Frames a message whose bytes are written by `writeMessage` into a buffer of exactly
    /// `messageLength` bytes; returns prefix and message in one array.
    package static func frame(
        messageLength: Int,
        writeMessage: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        precondition(messageLength >= 0 && messageLength <= Int(UInt32.max), "message too large to frame")
        return [UInt8](unsafeUninitializedCapacity: prefixLength + messageLength) { buffer, count in
            buffer[0] = 0
            let length = UInt32(messageLength)
            buffer[1] = UInt8(truncatingIfNeeded: length >> 24)
            buffer[2] = UInt8(truncatingIfNeeded: length >> 16)
            buffer[3] = UInt8(truncatingIfNeeded: length >> 8)
            buffer[4] = UInt8(truncatingIfNeeded: length)
            writeMessage(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[prefixLength...])))
            count = prefixLength + messageLength
        }
    }

    /// Frames bytes that are already encoded.
    package static func frame(_ message: [UInt8]) -> [UInt8] {
        frame(messageLength: message.count) { destination in
            message.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
    }
}
