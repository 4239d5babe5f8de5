@_exported import GRPCWire

/// The one error type of the Conductor client.
///
/// Every failure carries what an operator needs: which method, which endpoint, the gRPC status
/// (code and the server's message), how many attempts were made, and whether trying again
/// later may help.
public struct ConductorError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: Sendable, Hashable {
        /// The server (or the transport on its behalf) ended the call with a non-OK status.
        case rpcFailed
        /// The call's deadline passed.
        case deadlineExceeded
        /// The call was cancelled by the caller.
        case cancelled
        /// The connection could not be established or was lost.
        case connectionFailed
        /// The circuit breaker for the endpoint is open; no request was sent.
        case circuitOpen
        /// Too many calls are waiting for a connection.
        case poolSaturated
        /// The client has been shut down.
        case shutDown
        /// The configuration is invalid; see ``message``.
        case invalidConfiguration
        /// The request could not be built (for example invalid metadata).
        case invalidRequest
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The gRPC status code of the failure.
    public var code: GRPCStatusCode
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

    /// Creates an error.
    public init(
        kind: Kind,
        code: GRPCStatusCode,
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
        text += GRPCStatus(code: code, message: message).description
        if attempts > 0 { text += " (\(attempts) attempt\(attempts == 1 ? "" : "s"))" }
        return text
    }

    /// An invalid-configuration error with the given explanation.
    public static func invalidConfiguration(_ message: String) -> ConductorError {
        ConductorError(kind: .invalidConfiguration, code: .unknown, message: message)
    }
}
