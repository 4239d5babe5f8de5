/// The outcome of a gRPC call: a code and the server's (or the client's) message.
package struct GRPCStatus: Sendable, Hashable, CustomStringConvertible {
    /// The status code.
    package var code: GRPCStatusCode
    /// A human-readable message; empty when none was given.
    package var message: String

    /// Creates a status.
    package init(code: GRPCStatusCode, message: String = "") {
        self.code = code
        self.message = message
    }

    /// `CODE: message`, or just `CODE` when there is no message.
    package var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}
