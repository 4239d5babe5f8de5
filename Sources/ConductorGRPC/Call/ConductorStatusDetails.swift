/// The rich error model a gRPC server may send in the `grpc-status-details-bin` trailer: a
/// `google.rpc.Status` with typed details (for example `google.rpc.ErrorInfo` or `RetryInfo`).
///
/// Each detail is a `google.protobuf.Any`: its type URL and its serialized message, which a
/// caller that knows the type decodes with its own protobuf library.
public struct ConductorStatusDetails: Sendable, Hashable {
    /// One detail: a `google.protobuf.Any`.
    public struct Detail: Sendable, Hashable {
        /// For example `type.googleapis.com/google.rpc.ErrorInfo`.
        public var typeURL: String
        /// The serialized message.
        public var value: [UInt8]

        /// Creates a detail.
        public init(typeURL: String, value: [UInt8]) {
            self.typeURL = typeURL
            self.value = value
        }
    }

    /// The status code the server put in the details (it should equal `grpc-status`).
    public var code: Int32
    /// The server's message.
    public var message: String
    /// The typed details, in order.
    public var details: [Detail]

    /// Creates status details.
    public init(code: Int32, message: String, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// Decodes a serialized `google.rpc.Status`; nil when the bytes are not one.
    public init?(serialized bytes: [UInt8]) {
        guard let decoded = RPCStatusCodec.decode(bytes) else { return nil }
        self = decoded
    }

    /// The serialized `google.rpc.Status` (what a server puts in `grpc-status-details-bin`).
    public var serialized: [UInt8] { RPCStatusCodec.encode(self) }
}
