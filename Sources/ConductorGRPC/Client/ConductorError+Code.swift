import GRPCWire

extension ConductorError {
    /// A gRPC status code (the gRPC project's `statuscodes` document). A struct rather than an
    /// enum: compare with `==` or match in a `switch` with a `default`, so that a code added later
    /// does not break the caller.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        package let wire: GRPCStatusCode

        package init(_ wire: GRPCStatusCode) {
            self.wire = wire
        }

        /// The code with the given number, or nil when gRPC defines none.
        public init?(rawValue: Int) {
            guard let wire = GRPCStatusCode(rawValue: rawValue) else { return nil }
            self.wire = wire
        }

        /// The code's number on the wire (`grpc-status`).
        public var rawValue: Int { wire.rawValue }

        /// The canonical upper-case name, e.g. `NOT_FOUND`.
        public var name: String { wire.name }

        /// The same as ``name``.
        public var description: String { wire.name }

        /// Every code gRPC defines, in numeric order.
        public static var allCases: [Code] { GRPCStatusCode.allCases.map(Code.init) }

    /// The call succeeded.
    public static let ok = Code(.ok)
    /// The call was cancelled, typically by the caller.
    public static let cancelled = Code(.cancelled)
    /// An error that fits no other code, or a status the client could not understand.
    public static let unknown = Code(.unknown)
    /// The request was malformed; retrying it will not help.
    public static let invalidArgument = Code(.invalidArgument)
    /// The deadline passed before the call completed.
    public static let deadlineExceeded = Code(.deadlineExceeded)
    /// The requested entity (for example a day proof) does not exist.
    public static let notFound = Code(.notFound)
    /// The entity the call tried to create already exists.
    public static let alreadyExists = Code(.alreadyExists)
    /// The caller is not allowed to perform the call.
    public static let permissionDenied = Code(.permissionDenied)
    /// A resource (quota, message size, memory) is exhausted.
    public static let resourceExhausted = Code(.resourceExhausted)
    /// The system is not in a state the call requires.
    public static let failedPrecondition = Code(.failedPrecondition)
    /// The call was aborted, typically by a concurrency conflict.
    public static let aborted = Code(.aborted)
    /// The call asked for something past a valid range.
    public static let outOfRange = Code(.outOfRange)
    /// The server does not implement the method.
    public static let unimplemented = Code(.unimplemented)
    /// An invariant was broken: a protocol violation or a server bug.
    public static let internalError = Code(.internalError)
    /// The service is unavailable right now; a retry may succeed.
    public static let unavailable = Code(.unavailable)
    /// Data was lost or corrupted.
    public static let dataLoss = Code(.dataLoss)
    /// The call lacks valid credentials.
    public static let unauthenticated = Code(.unauthenticated)
    }
}
