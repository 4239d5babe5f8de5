/// A gRPC status code, as defined by the gRPC project's `statuscodes` document.
package enum GRPCStatusCode: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The call succeeded.
    case ok = 0
    /// The call was cancelled, typically by the caller.
    case cancelled = 1
    /// An error that fits no other code, or a status the client could not understand.
    case unknown = 2
    /// The request was malformed; retrying it will not help.
    case invalidArgument = 3
    /// The deadline passed before the call completed.
    case deadlineExceeded = 4
    /// The requested entity (for example a day proof) does not exist.
    case notFound = 5
    /// The entity the call tried to create already exists.
    case alreadyExists = 6
    /// The caller is not allowed to perform the call.
    case permissionDenied = 7
    /// A resource (quota, message size, memory) is exhausted.
    case resourceExhausted = 8
    /// The system is not in a state the call requires.
    case failedPrecondition = 9
    /// The call was aborted, typically by a concurrency conflict.
    case aborted = 10
    /// The call asked for something past a valid range.
    case outOfRange = 11
    /// The server does not implement the method.
    case unimplemented = 12
    /// An invariant was broken: a protocol violation or a server bug.
    case internalError = 13
    /// The service is unavailable right now; a retry may succeed.
    case unavailable = 14
    /// Data was lost or corrupted.
    case dataLoss = 15
    /// The call lacks valid credentials.
    case unauthenticated = 16

    /// The code's canonical upper-case name, e.g. `NOT_FOUND`.
    package var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    /// The same as ``name``.
    package var description: String { name }

    /// Parses the value of a `grpc-status` trailer: a decimal number. Unknown numbers and
    /// malformed values give `.unknown`, as the gRPC specification requires.
    package init(grpcStatusValue value: Substring) {
        guard let number = Int(value), let code = GRPCStatusCode(rawValue: number) else {
            self = .unknown
            return
        }
        self = code
    }
}
