import Logging

/// Code that runs around every call of a ``ConductorClient``: it can add metadata, observe the
/// outcome, retry the call once with new credentials, or fail it.
///
/// Interceptors run in the order given, each around the next, **once per call, around all of
/// its attempts** (the retries, the backoff and the whole-call deadline happen inside `next`).
/// Once per call rather than once per attempt because what an interceptor decides — the
/// credentials, the trace context, whether the call may go out at all — holds for the whole call,
/// and the outcome it observes is the one the caller sees; metadata it adds is sent with every
/// attempt.
///
/// ```swift
/// struct RequestID: ConductorInterceptor {
///     func intercept(_ call: ConductorCall, next: ConductorCall.Next) async throws(ConductorError) -> ConductorCallResult {
///         var call = call
///         try call.metadata.append("x-request-id", makeRequestID())
///         return try await next(call)
///     }
/// }
/// ```
public protocol ConductorInterceptor: Sendable {
    /// Runs the call by calling `next` (zero, one or more times) and returns its result.
    func intercept(_ call: ConductorCall, next: ConductorCall.Next) async throws(ConductorError) -> ConductorCallResult
}

/// One call as an interceptor sees it (the request message itself is not exposed: interceptors
/// should never read or log payloads).
public struct ConductorCall: Sendable {
    /// Continues the call with the next interceptor, or sends it.
    public typealias Next = @Sendable (ConductorCall) async throws(ConductorError) -> ConductorCallResult

    /// The RPC.
    public let method: ConductorMethod
    /// The metadata sent with every attempt: the client's defaults, then the call's own.
    public var metadata: ConductorMetadata
    /// The call's deadline as the caller set it (`nil`: the configuration's timeout).
    public var timeout: Duration?
    /// The caller's logger for this call, if it gave one.
    public var logger: Logger?
}

/// What a call returned, as an interceptor sees it.
public struct ConductorCallResult: Sendable {
    /// The response headers (initial metadata), as received; only those gRPC reads unless the
    /// caller asked for all (``ConductorClient/response(to:options:)``).
    public var initialMetadata: ConductorMetadata { ConductorMetadata(received: headers) }
    /// The trailers, as received.
    public var trailers: ConductorMetadata { ConductorMetadata(received: trailerFields) }
    /// The endpoint (`host:port`) that answered.
    public var endpoint: String { answeredBy.description }
    /// How many attempts the call took.
    public var attempts: Int
    /// The response message, still encoded.
    let message: [UInt8]
    let answeredBy: ConductorEndpoint
    /// The fields as the transport kept them: made into ``ConductorMetadata`` only when read.
    let headers: [(name: String, value: String)]
    let trailerFields: [(name: String, value: String)]
}
