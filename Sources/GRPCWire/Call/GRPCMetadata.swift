/// Custom request metadata: lower-case names; binary values under names ending in `-bin`.
package struct GRPCMetadata: Sendable, Hashable {
    /// One metadata entry.
    package enum Value: Sendable, Hashable {
        /// Printable ASCII text.
        case text(String)
        /// Arbitrary bytes; the name must end in `-bin`; sent base64-encoded without padding.
        case binary([UInt8])
    }

    /// Why a metadata entry cannot be sent.
    package enum ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The name is empty or has characters other than `0-9 a-z _ - .`.
        case invalidName(String)
        /// Names starting with `grpc-` belong to the protocol.
        case reservedName(String)
        /// A text value with characters outside printable ASCII.
        case invalidTextValue(name: String)
        /// A binary value under a name without the `-bin` suffix, or text under one with it.
        case binarySuffixMismatch(name: String)

        /// A sentence naming the entry and the rule it breaks.
        package var description: String {
            switch self {
            case .invalidName(let name): "metadata name \"\(name)\" must be lower-case 0-9 a-z _ - ."
            case .reservedName(let name): "metadata name \"\(name)\" is reserved (grpc- prefix)"
            case .invalidTextValue(let name): "metadata \"\(name)\" must be printable ASCII (use a -bin name for bytes)"
            case .binarySuffixMismatch(let name): "metadata \"\(name)\": binary values need a -bin name and -bin names need binary values"
            }
        }
    }

    /// The entries in the order they are sent.
    package private(set) var entries: [(name: String, value: Value)] = []

    /// Creates empty metadata.
    package init() {}

    /// Appends an entry after checking its name and value.
    package mutating func append(_ name: String, _ value: Value) throws(ValidationError) {
        guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else { throw .invalidName(name) }
        guard !name.hasPrefix("grpc-") else { throw .reservedName(name) }
        let isBinaryName = name.hasSuffix("-bin")
        switch value {
        case .text(let text):
            guard !isBinaryName else { throw .binarySuffixMismatch(name: name) }
            guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else { throw .invalidTextValue(name: name) }
        case .binary:
            guard isBinaryName else { throw .binarySuffixMismatch(name: name) }
        }
        entries.append((name, value))
    }

    /// The value as it goes on the wire.
    package static func wireValue(_ value: Value) -> String {
        switch value {
        case .text(let text): text
        case .binary(let bytes): Base64.encodeUnpadded(bytes)
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."): true
        default: false
        }
    }

    package static func == (lhs: GRPCMetadata, rhs: GRPCMetadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.name == $1.name && $0.value == $1.value }
    }

    package func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.name)
            hasher.combine(entry.value)
        }
    }
}
