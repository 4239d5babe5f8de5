/// The percent-encoding of the `grpc-message` trailer: bytes 0x20–0x24 and 0x26–0x7E pass as they
/// are; every other byte (including `%` itself) is written as `%XX`.
package enum PercentEncoding {
    /// Encodes a status message for the `grpc-message` trailer.
    package static func encode(_ message: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(message.utf8.count)
        for byte in message.utf8 {
            if (0x20...0x24).contains(byte) || (0x26...0x7E).contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a `grpc-message` value leniently: an invalid escape is kept as it is, and bytes
    /// that do not form UTF-8 are replaced, never rejected.
    package static func decode(_ value: String) -> String {
        guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
        let bytes = Array(value.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
