/// The outcome of a gRPC call: a code and the server's (or the client's) message.
public struct GRPCStatus: Sendable, Hashable, CustomStringConvertible {
    /// The status code.
    public var code: GRPCStatusCode
    /// A human-readable message; empty when none was given.
    public var message: String

    /// Creates a status.
    public init(code: GRPCStatusCode, message: String = "") {
        self.code = code
        self.message = message
    }

    /// `CODE: message`, or just `CODE` when there is no message.
    public var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}
