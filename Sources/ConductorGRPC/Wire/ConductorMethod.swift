/// The RPCs this client makes, with their HTTP/2 paths.
public enum ConductorMethod: String, Sendable, Hashable, CaseIterable {
    /// `chorus.ConductorBridge/SubmitEvent`
    case submitEvent = "SubmitEvent"
    /// `chorus.ConductorBridge/SubmitEventsBatch`
    case submitEventsBatch = "SubmitEventsBatch"
    /// `chorus.ConductorBridge/GetDayProof`
    case getDayProof = "GetDayProof"
    /// `chorus.ConductorBridge/HealthCheck`
    case healthCheck = "HealthCheck"
    /// The standard `grpc.health.v1.Health/Check`
    case standardHealthCheck = "Check"

    /// The request path, e.g. `/chorus.ConductorBridge/GetDayProof`.
    public var path: String {
        switch self {
        case .standardHealthCheck: "/grpc.health.v1.Health/Check"
        default: "/chorus.ConductorBridge/\(rawValue)"
        }
    }
}
