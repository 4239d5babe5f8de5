/// Header fields packed for the C shim: per field a 4-byte little-endian name length, a 4-byte
/// little-endian value length, the name bytes and the value bytes.
package struct HTTP2HeaderBlock: Sendable {
    /// The packed bytes.
    package private(set) var bytes: [UInt8] = []
    /// The number of fields packed.
    package private(set) var count = 0

    /// Creates an empty block.
    package init() {}

    /// Appends one field. Not generic: a generic one, called from another module, ran unspecialized
    /// and walked each byte through witness tables (4,000 instructions a field).
    package mutating func append(name: String, value: String) {
        appendLength(name.utf8.count)
        appendLength(value.utf8.count)
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: value.utf8)
        count += 1
    }

    /// Appends one field given as bytes (a field read from another block).
    package mutating func append(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        appendLength(name.count)
        appendLength(value.count)
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: value)
        count += 1
    }

    /// Appends every field of another block.
    package mutating func append(_ other: HTTP2HeaderBlock) {
        bytes.append(contentsOf: other.bytes)
        count += other.count
    }

    /// Reserves room for `byteCount` more bytes.
    package mutating func reserveCapacity(_ byteCount: Int) {
        bytes.reserveCapacity(byteCount)
    }

    /// Reads the fields back (used by tests and diagnostics).
    package var fields: [(name: String, value: String)] {
        var result: [(String, String)] = []
        forEachField { name, value in
            result.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return result
    }

    /// Calls `body` with each field's name and value bytes, in order, without making strings.
    package func forEachField(_ body: (_ name: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) throws -> Void) rethrows {
        var index = 0
        while index + 8 <= bytes.count {
            let nameLength = readLength(at: index)
            let valueLength = readLength(at: index + 4)
            index += 8
            try body(bytes[index..<index + nameLength], bytes[index + nameLength..<index + nameLength + valueLength])
            index += nameLength + valueLength
        }
    }

    private mutating func appendLength(_ length: Int) {
        let value = UInt32(length)
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    private func readLength(at index: Int) -> Int {
        Int(bytes[index]) | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 24
    }
}
