import GRPCWire

/// The one error type of the Conductor client.
///
/// Every failure carries what an operator needs: which method, which endpoint, the gRPC status
/// (code and the server's message), how many attempts were made, and whether trying again
/// later may help.
///
/// ``kind`` and ``code`` are structs with static members rather than enums, so that later
/// versions can add kinds and codes without breaking a caller's `switch` (give it a `default`).
public struct ConductorError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public var kind: Kind {
        get { storage.fields.kind }
        set { mutableStorage.fields.kind = newValue }
    }
    /// The gRPC status code of the failure.
    public var code: Code {
        get { storage.fields.code }
        set { mutableStorage.fields.code = newValue }
    }
    /// The server's message, or the client's explanation.
    public var message: String {
        get { storage.fields.message }
        set { mutableStorage.fields.message = newValue }
    }
    /// The method that failed, if the failure belongs to a call.
    public var method: ConductorMethod? {
        get { storage.fields.method }
        set { mutableStorage.fields.method = newValue }
    }
    /// The endpoint (`host:port`) the last attempt went to, if any.
    public var endpoint: String? {
        get { storage.fields.endpoint }
        set { mutableStorage.fields.endpoint = newValue }
    }
    /// How many attempts reached the transport.
    public var attempts: Int {
        get { storage.fields.attempts }
        set { mutableStorage.fields.attempts = newValue }
    }
    /// Whether the same call may succeed if tried again later.
    public var isRetryable: Bool {
        get { storage.fields.isRetryable }
        set { mutableStorage.fields.isRetryable = newValue }
    }
    /// The trailers the server ended the last attempt with, as received (`grpc-status`,
    /// `grpc-message`, `grpc-status-details-bin` and any custom ones); empty when the client or
    /// the transport ended the call. Never part of ``description``: they may carry secrets.
    public var trailers: ConductorMetadata {
        get { storage.fields.trailers }
        set { mutableStorage.fields.trailers = newValue }
    }

    /// The server's rich status (`grpc-status-details-bin`, a `google.rpc.Status`), when it sent
    /// one that decodes; `nil` otherwise.
    public var statusDetails: ConductorStatusDetails? {
        trailers[binary: "grpc-status-details-bin"].first.flatMap(ConductorStatusDetails.init(serialized:))
    }

    private struct Fields {
        var kind: Kind
        var code: Code
        var message: String
        var method: ConductorMethod?
        var endpoint: String?
        var attempts: Int
        var isRetryable: Bool
        var trailers = ConductorMetadata()
    }

    /// The fields behind one reference: an error is 8 bytes wherever it is held. Every async
    /// function that can throw it keeps a slot for it in its frame, and every call in flight keeps
    /// those frames (80 bytes a slot inline; about 20 slots on a call's path).
    ///
    /// Mutated only through ``mutableStorage``, that is, only while one error holds it: sharing it
    /// between threads is then as safe as sharing any immutable value.
    private final class Storage: @unchecked Sendable {
        var fields: Fields

        init(_ fields: Fields) {
            self.fields = fields
        }
    }

    private var storage: Storage

    /// The storage, copied first when another error shares it (copy on write).
    private var mutableStorage: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            return storage
        }
    }

    /// Creates an error.
    public init(
        kind: Kind,
        code: Code,
        message: String,
        method: ConductorMethod? = nil,
        endpoint: String? = nil,
        attempts: Int = 0,
        isRetryable: Bool = false
    ) {
        storage = Storage(Fields(kind: kind, code: code, message: message, method: method, endpoint: endpoint,
                                 attempts: attempts, isRetryable: isRetryable))
    }

    /// For example `GetDayProof to 127.0.0.1:50051 failed: NOT_FOUND: no proof for day 5 (1 attempt)`.
    public var description: String {
        var text = ""
        if let method { text += method.rawValue }
        if let endpoint { text += text.isEmpty ? endpoint : " to \(endpoint)" }
        text += text.isEmpty ? "" : " failed: "
        text += GRPCStatus(code: code.wire, message: message).description
        if attempts > 0 { text += " (\(attempts) attempt\(attempts == 1 ? "" : "s"))" }
        return text
    }

    /// An invalid-configuration error with the given explanation.
    public static func invalidConfiguration(_ message: String) -> ConductorError {
        ConductorError(kind: .invalidConfiguration, code: .unknown, message: message)
    }
}
