import GRPCWire

/// gRPC metadata: ordered name/value pairs sent with a request (custom headers) or received with a
/// response (initial metadata and trailers).
///
/// Names are lower-case `0-9 a-z _ - .`; values are printable ASCII text, or bytes under a name
/// ending in `-bin` (sent base64-encoded). Names the protocol owns are refused when adding request
/// metadata: `grpc-*`, pseudo-headers (`:path`), and the headers the client sets itself
/// (`content-type`, `te`, `user-agent`) or HTTP/2 forbids (`connection`, `host`, …).
///
/// ```swift
/// var metadata = ConductorMetadata()
/// try metadata.append("x-tenant", "acme")
/// try metadata.append("trace-context-bin", bytes: [0x01, 0x02])
/// ```
///
/// Secrets stay out of logs: ``redactedDescription`` (used by `--dry-run` and in errors) hides
/// the values of `authorization` and of names that look like credentials.
public struct ConductorMetadata: Sendable, Hashable, Sequence, CustomStringConvertible {
    /// One value: text or bytes.
    public enum Value: Sendable, Hashable {
        /// Printable ASCII text.
        case text(String)
        /// Arbitrary bytes; only under names ending in `-bin`.
        case binary([UInt8])
    }

    /// One entry.
    public struct Entry: Sendable, Hashable {
        /// The lower-case name.
        public var name: String
        /// The value.
        public var value: Value
    }

    package private(set) var wire = GRPCMetadata()
    /// Received entries, in arrival order (request metadata lives in ``wire``).
    private var received: [Entry] = []

    /// Empty metadata.
    public init() {}

    /// Metadata holding `pairs` as text values, checked like ``append(_:_:)-(String,String)``.
    public init(_ pairs: KeyValuePairs<String, String>) throws(ConductorError) {
        for (name, value) in pairs { try append(name, value) }
    }

    /// Response metadata as received, unchecked (a server may send any name).
    package init(received fields: [(name: String, value: String)]) {
        received = fields.map { field in
            guard field.name.hasSuffix("-bin") else { return Entry(name: field.name, value: .text(field.value)) }
            return Entry(name: field.name, value: .binary(Base64.decode(field.value) ?? Array(field.value.utf8)))
        }
    }

    /// Adds a text entry after checking its name and value.
    public mutating func append(_ name: String, _ value: String) throws(ConductorError) {
        try append(name, .text(value))
    }

    /// Adds a binary entry; the name must end in `-bin`.
    public mutating func append(_ name: String, bytes: [UInt8]) throws(ConductorError) {
        try append(name, .binary(bytes))
    }

    /// Adds an entry after checking its name and value.
    public mutating func append(_ name: String, _ value: Value) throws(ConductorError) {
        if let reason = Self.reservedReason(name) {
            throw ConductorError(kind: .invalidRequest, code: .invalidArgument, message: "metadata name \"\(name)\" \(reason)")
        }
        do {
            try wire.append(name, Self.wireValue(value))
        } catch {
            throw ConductorError(kind: .invalidRequest, code: .invalidArgument, message: error.description)
        }
    }

    /// Adds every entry of `other` after this metadata's own (`other` was checked when it was built).
    public mutating func append(contentsOf other: ConductorMetadata) {
        for entry in other.wire.entries {
            try? wire.append(entry.name, entry.value)
        }
    }

    /// Replaces every entry named `name` with one text entry.
    public mutating func replace(_ name: String, with value: String) throws(ConductorError) {
        var rebuilt = ConductorMetadata()
        for entry in wire.entries where entry.name != name {
            try? rebuilt.wire.append(entry.name, entry.value)
        }
        try rebuilt.append(name, value)
        self = rebuilt
    }

    /// The entries in the order they are sent or were received.
    public var entries: [Entry] {
        received + wire.entries.map { Entry(name: $0.name, value: Self.publicValue($0.value)) }
    }

    /// Whether there are no entries.
    public var isEmpty: Bool { received.isEmpty && wire.entries.isEmpty }

    /// The text values named `name`, in order (binary values are skipped).
    public subscript(name: String) -> [String] {
        entries.compactMap { entry in
            guard entry.name == name, case .text(let text) = entry.value else { return nil }
            return text
        }
    }

    /// The byte values named `name`, in order (text values are skipped).
    public subscript(binary name: String) -> [[UInt8]] {
        entries.compactMap { entry in
            guard entry.name == name, case .binary(let bytes) = entry.value else { return nil }
            return bytes
        }
    }

    /// Iterates the entries.
    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// `name=value, …` with the values of credentials replaced by `<redacted>`.
    public var redactedDescription: String {
        entries.map { entry in
            guard !Self.isSecret(entry.name) else { return "\(entry.name)=<redacted>" }
            switch entry.value {
            case .text(let text): return "\(entry.name)=\(text)"
            case .binary(let bytes): return "\(entry.name)=<\(bytes.count) bytes>"
            }
        }.joined(separator: ", ")
    }

    /// The same as ``redactedDescription``: metadata never prints a credential.
    public var description: String { redactedDescription }

    /// Whether a name's values are credentials: `authorization`, cookies, and names that mention a
    /// token, secret, password or key.
    public static func isSecret(_ name: String) -> Bool {
        let name = name.lowercased()
        if ["authorization", "proxy-authorization", "cookie", "set-cookie"].contains(name) { return true }
        return ["token", "secret", "password", "api-key", "apikey"].contains { name.contains($0) }
    }

    private static let ownedByTheClient: Set<String> = [
        "content-type", "te", "user-agent", "connection", "host", "keep-alive", "proxy-connection",
        "transfer-encoding", "upgrade", "content-length",
    ]

    private static func reservedReason(_ name: String) -> String? {
        if name.hasPrefix(":") { return "is a pseudo-header and belongs to HTTP/2" }
        if name.hasPrefix("grpc-") { return "is reserved for the gRPC protocol (grpc- prefix)" }
        if ownedByTheClient.contains(name) { return "is set by the client itself and cannot be sent as metadata" }
        return nil
    }

    private static func wireValue(_ value: Value) -> GRPCMetadata.Value {
        switch value {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }

    private static func publicValue(_ value: GRPCMetadata.Value) -> Value {
        switch value {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }
}

extension ConductorMetadata {
    /// Parses `key=value,key2=value2` (the form of `CONDUCTOR_METADATA` and `--metadata`): text
    /// values, without commas; spaces around keys and values are ignored. Errors name `variable`
    /// and never repeat a value.
    public init(parsing text: String, variable: String) throws(ConductorError) {
        self.init()
        for item in text.split(separator: ",") {
            try append(parsingEntry: String(item), variable: variable)
        }
    }

    /// Adds one `key=value` entry.
    public mutating func append(parsingEntry text: String, variable: String) throws(ConductorError) {
        let item = text.trimmingWhitespace()
        guard !item.isEmpty else { return }
        guard let equals = item.firstIndex(of: "=") else {
            throw .invalidConfiguration("\(variable): \"\(item.prefix(40))\" is not key=value")
        }
        let name = String(item[..<equals]).trimmingWhitespace()
        let value = String(item[item.index(after: equals)...]).trimmingWhitespace()
        do {
            try append(name, value)
        } catch {
            throw .invalidConfiguration("\(variable): \(error.message)")
        }
    }
}
