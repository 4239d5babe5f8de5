/// A client for a Chorus Conductor over gRPC.
///
/// Create one per process (it multiplexes every call over HTTP/2), call it from any task, and
/// call ``shutdown()`` before the process exits:
///
/// ```swift
/// let client = try ConductorClient(configuration: .fromEnvironment())
/// let proof = try await client.dayProof(42)
/// await client.shutdown()
/// ```
///
/// Every method has a deadline: the configuration's ``ConductorConfiguration/timeout`` unless the
/// caller passes a shorter one. It is sent to the server as `grpc-timeout` and enforced locally.
/// Cancelling the calling task resets the call's HTTP/2 stream and throws a ``ConductorError``
/// whose kind is `.cancelled`. Every failure is a ``ConductorError``.
public final class ConductorClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: ConductorConfiguration
    private let channel: GRPCChannel
    private let lifecycle = CallLifecycle()

    /// Creates a client. Connections open lazily, on the first call.
    public init(configuration: ConductorConfiguration) throws(ConductorError) {
        guard configuration.mode == .remote else {
            throw .invalidConfiguration("ConductorClient talks to a remote conductor; CONDUCTOR_MODE=memory is served by the in-memory conductor")
        }
        guard let endpoint = configuration.endpoints.first else {
            throw .invalidConfiguration("no conductor endpoint configured: set CONDUCTOR_BASE_URL (e.g. grpc://conductor:50051)")
        }
        self.configuration = configuration
        self.channel = GRPCChannel(endpoint: endpoint, configuration: configuration)
    }

    deinit {
        channel.shutdown()
    }

    /// The conductor's proof for `day`. A day without a proof throws `NOT_FOUND`.
    public func dayProof(_ day: Int32, timeout: Duration? = nil) async throws(ConductorError) -> DayProof {
        try await call(.getDayProof, ConductorProtobufCodec.encodeDayProofRequest(day: day), timeout: timeout,
                       decode: ConductorProtobufCodec.decodeDayProof)
    }

    /// Submits one event; the receipt's hash identifies the event's content.
    public func submit(_ event: ConductorEvent, timeout: Duration? = nil) async throws(ConductorError) -> ConductorReceipt {
        try await call(.submitEvent, ConductorProtobufCodec.encodeEvent(event), timeout: timeout,
                       decode: ConductorProtobufCodec.decodeReceipt)
    }

    /// Submits events all-or-nothing: one receipt per event, in order, or an error and no event applied.
    public func submit(batch events: [ConductorEvent], timeout: Duration? = nil) async throws(ConductorError) -> [ConductorReceipt] {
        let receipts = try await call(.submitEventsBatch, ConductorProtobufCodec.encodeEventBatch(events), timeout: timeout,
                                      decode: ConductorProtobufCodec.decodeReceiptBatch)
        guard receipts.count == events.count else {
            throw ConductorError(kind: .rpcFailed, code: .internalError,
                                 message: "the conductor returned \(receipts.count) receipts for \(events.count) events",
                                 method: .submitEventsBatch, endpoint: channel.endpoint.description, attempts: 1)
        }
        return receipts
    }

    /// The conductor's health, from `chorus.ConductorBridge/HealthCheck`.
    public func health(service: String = "", timeout: Duration? = nil) async throws(ConductorError) -> ServingStatus {
        try await call(.healthCheck, ConductorProtobufCodec.encodeHealthCheckRequest(service: service), timeout: timeout,
                       decode: ConductorProtobufCodec.decodeHealthCheck)
    }

    /// The health reported by the standard `grpc.health.v1.Health/Check` service; an empty
    /// service name asks about the whole server.
    public func standardHealth(service: String = "", timeout: Duration? = nil) async throws(ConductorError) -> ServingStatus {
        try await call(.standardHealthCheck, ConductorProtobufCodec.encodeStandardHealthCheckRequest(service: service),
                       timeout: timeout, decode: ConductorProtobufCodec.decodeStandardHealthCheck)
    }

    /// Refuses new calls, waits for the calls in flight to finish, then closes the connections.
    public func shutdown() async {
        await lifecycle.drain()
        channel.shutdown()
    }

    private func call<Response>(
        _ method: ConductorMethod,
        _ body: [UInt8],
        timeout: Duration?,
        decode: ([UInt8]) throws(ConductorProtobufCodec.InvalidMessage) -> Response
    ) async throws(ConductorError) -> Response {
        let endpoint = channel.endpoint.description
        guard lifecycle.enter() else {
            throw ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down",
                                 method: method, endpoint: endpoint)
        }
        defer { lifecycle.leave() }
        let deadline = min(timeout ?? configuration.timeout, configuration.timeout)
        let connection = channel.connection()
        let headers = channel.requestHeads.headers(path: method.path, timeout: deadline)
        let stream = await connection.exchange(
            headers: headers, body: body, timeout: deadline,
            maximumResponseBytes: configuration.maxReceiveMessageBytes + GRPCMessageFramer.prefixLength)
        let response = GRPCResponseInterpreter.interpret(stream, maximumMessageLength: configuration.maxReceiveMessageBytes)
        switch response.result {
        case .success(let message):
            do {
                return try decode(message)
            } catch {
                throw ConductorError(kind: .rpcFailed, code: .internalError,
                                     message: "the response is not a valid \(error.messageType) message",
                                     method: method, endpoint: endpoint, attempts: 1)
            }
        case .failure(let failure):
            throw ConductorError(failure, method: method, endpoint: endpoint, attempts: 1)
        }
    }
}
