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
    public var kind: Kind
    /// The gRPC status code of the failure.
    public var code: Code
    /// The server's message, or the client's explanation.
    public var message: String
    /// The method that failed, if the failure belongs to a call.
    public var method: ConductorMethod?
    /// The endpoint (`host:port`) the last attempt went to, if any.
    public var endpoint: String?
    /// How many attempts reached the transport.
    public var attempts: Int
    /// Whether the same call may succeed if tried again later.
    public var isRetryable: Bool
    /// The trailers the server ended the last attempt with, as received (`grpc-status`,
    /// `grpc-message`, `grpc-status-details-bin` and any custom ones); empty when the client or
    /// the transport ended the call. Never part of ``description``: they may carry secrets.
    public var trailers = ConductorMetadata()

    /// The server's rich status (`grpc-status-details-bin`, a `google.rpc.Status`), when it sent
    /// one that decodes; `nil` otherwise.
    public var statusDetails: ConductorStatusDetails? {
        trailers[binary: "grpc-status-details-bin"].first.flatMap(ConductorStatusDetails.init(serialized:))
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
        self.kind = kind
        self.code = code
        self.message = message
        self.method = method
        self.endpoint = endpoint
        self.attempts = attempts
        self.isRetryable = isRetryable
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
