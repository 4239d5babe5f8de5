import ConductorGRPC
import Hummingbird

/// Answers a route's `ConductorError` with the HTTP status that fits it, instead of the bare 500
/// Hummingbird gives an error it does not know.
///
/// The body carries the gRPC code and the conductor's message. The full description, which names
/// the endpoint and the attempts, goes to the log only: callers of the relay need not see the
/// conductor's address.
struct ConductorErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConductorError {
            let status = Self.status(for: error)
            // Not a warning: in an outage every request fails, and the client already warns (at most
            // once a minute per endpoint) about what an operator must act on.
            context.logger.log(level: status.code >= 500 ? .info : .debug, "conductor call failed",
                               metadata: ["error": "\(error)", "kind": "\(error.kind)"])
            throw HTTPError(status, message: "\(error.code): \(error.message)")
        }
    }

    /// 503 while the conductor cannot be reached or the client refuses calls (a retry later may
    /// succeed), 504 when the deadline passed, 4xx for what the caller asked wrongly, 502 otherwise.
    static func status(for error: ConductorError) -> HTTPResponse.Status {
        switch error.kind {
        case .circuitOpen, .connectionFailed, .poolSaturated, .shutDown: return .serviceUnavailable
        case .deadlineExceeded: return .gatewayTimeout
        case .invalidRequest: return .badRequest
        default: break
        }
        switch error.code {
        case .notFound: return .notFound
        case .invalidArgument, .outOfRange: return .badRequest
        case .unavailable, .resourceExhausted: return .serviceUnavailable
        case .deadlineExceeded: return .gatewayTimeout
        default: return .badGateway
        }
    }
}
