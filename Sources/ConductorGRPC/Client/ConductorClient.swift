import BridgeResilience
import Logging
import Metrics

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
/// Every method has a deadline covering all its attempts: the configuration's
/// ``ConductorConfiguration/timeout`` unless the caller passes a shorter one. It is sent to the
/// server as `grpc-timeout` and enforced locally. Failed attempts are retried when that is safe
/// (see the README's retry contract), with full-jitter backoff and a retry budget; a circuit
/// breaker makes calls fail fast while the conductor keeps failing. Cancelling the calling task
/// resets the call's HTTP/2 stream. Every failure is a ``ConductorError``.
public final class ConductorClient: ConductorService {
    /// The configuration the client was created with.
    public let configuration: ConductorConfiguration
    let pool: ChannelPool
    private let maintenance: PoolMaintenance
    private let caller: ResilientCaller
    private let cache: DayProofCache
    private let lifecycle = CallLifecycle()

    /// Creates a client. Connections open lazily, on the first call.
    ///
    /// - Parameters:
    ///   - configuration: where and how to call; see ``ConductorConfiguration/fromEnvironment(_:)``.
    ///   - logger: receives breaker transitions (warning/notice) and retries (debug); never payloads.
    ///   - metricsFactory: where metrics go; `nil` means the backend bootstrapped with
    ///     `MetricsSystem.bootstrap` (bootstrap it before creating the client).
    public convenience init(
        configuration: ConductorConfiguration,
        logger: Logger = Logger(label: "conductor.grpc"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(ConductorError) {
        try self.init(configuration: configuration, logger: logger, metricsFactory: metricsFactory, transport: nil,
                      clock: SystemCallClock())
    }

    /// Creates a client over `transport` (nil: HTTP/2 over the network) reading time from `clock`.
    init(
        configuration: ConductorConfiguration,
        logger: Logger,
        metricsFactory: (any MetricsFactory)?,
        transport: (any ConductorTransport)?,
        clock: any CallClock
    ) throws(ConductorError) {
        guard configuration.mode == .remote else {
            throw .invalidConfiguration("ConductorClient talks to a remote conductor; CONDUCTOR_MODE=memory is served by the in-memory conductor")
        }
        guard !configuration.endpoints.isEmpty else {
            throw .invalidConfiguration("no conductor endpoint configured: set CONDUCTOR_BASE_URL (e.g. grpc://conductor:50051)")
        }
        try configuration.validate()
        self.configuration = configuration
        let metrics = ConductorMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        // dns:/// names are resolved in the background; until then the pool has no address for them.
        let literal = configuration.endpoints.filter { if case .dns = $0.transport { false } else { true } }
        self.pool = ChannelPool(addresses: literal, configuration: configuration, tls: try Self.tlsContext(for: configuration),
                                transport: transport ?? NGHTTP2Transport(configuration: configuration), clock: clock,
                                logger: logger, metrics: metrics)
        self.maintenance = PoolMaintenance(pool: pool, configuration: configuration, logger: logger)
        self.caller = ResilientCaller(
            pool: pool,
            policy: RetryPolicy(maxRetries: configuration.maxRetries, backoffBase: configuration.retryDelay,
                                backoffCap: configuration.retryMaxDelay),
            configuration: configuration, logger: logger)
        self.cache = DayProofCache(configuration: configuration, metrics: metrics)
        maintenance.start(initialResolution: literal.count != configuration.endpoints.count)
    }

    deinit {
        maintenance.stop()
        pool.shutdown()
    }

    /// The conductor's proof for `day`. A day without a proof throws `NOT_FOUND` (remembered for
    /// 5 s). Canonical proofs are cached until evicted, others for ``ConductorConfiguration/cacheTTL``.
    nonisolated(nonsending)
    public func dayProof(
        _ day: Int32,
        timeout: Duration? = nil,
        cachePolicy: ConductorCachePolicy = .useCache
    ) async throws(ConductorError) -> DayProof {
        switch cachePolicy {
        case .useCache:
            // A hit returns before the loader closure (an allocation) is made.
            if let cached = cache.storage.cachedValue(for: day) { return cached }
            return try await cache.proof(for: day) { [self] day throws(ConductorError) in
                try await fetchDayProof(day, timeout: timeout)
            }
        case .reload:
            let proof = try await fetchDayProof(day, timeout: timeout)
            cache.store(proof)
            return proof
        }
    }

    /// Submits one event; the receipt's hash identifies the event's content.
    public func submit(_ event: ConductorEvent, timeout: Duration? = nil) async throws(ConductorError) -> ConductorReceipt {
        try await call(.submitEvent, ConductorProtobufCodec.encodeEvent(event), safety: submitSafety, timeout: timeout,
                       decode: ConductorProtobufCodec.decodeReceipt)
    }

    /// Submits events all-or-nothing: one receipt per event, in order, or an error and no event applied.
    public func submit(batch events: [ConductorEvent], timeout: Duration? = nil) async throws(ConductorError) -> [ConductorReceipt] {
        let receipts = try await call(.submitEventsBatch, ConductorProtobufCodec.encodeEventBatch(events), safety: submitSafety,
                                      timeout: timeout, decode: ConductorProtobufCodec.decodeReceiptBatch)
        guard receipts.count == events.count else {
            throw ConductorError(kind: .rpcFailed, code: .internalError,
                                 message: "the conductor returned \(receipts.count) receipts for \(events.count) events",
                                 method: .submitEventsBatch, attempts: 1)
        }
        return receipts
    }

    /// The conductor's health, from `chorus.ConductorBridge/HealthCheck`.
    public func health(service: String = "", timeout: Duration? = nil) async throws(ConductorError) -> ServingStatus {
        try await call(.healthCheck, ConductorProtobufCodec.encodeHealthCheckRequest(service: service), safety: .idempotent,
                       timeout: timeout, decode: ConductorProtobufCodec.decodeHealthCheck)
    }

    /// The health reported by the standard `grpc.health.v1.Health/Check` service; an empty
    /// service name asks about the whole server.
    public func standardHealth(service: String = "", timeout: Duration? = nil) async throws(ConductorError) -> ServingStatus {
        try await call(.standardHealthCheck, ConductorProtobufCodec.encodeStandardHealthCheckRequest(service: service),
                       safety: .idempotent, timeout: timeout, decode: ConductorProtobufCodec.decodeStandardHealthCheck)
    }

    /// The state of the first endpoint's circuit breaker (see ``statistics`` for every endpoint).
    public var circuitBreakerState: CircuitBreakerState { pool.statistics.endpoints.first?.breakerState ?? .closed }

    /// Every endpoint's health, breaker and connections: state, streams in flight, calls,
    /// failures, reconnects.
    public var statistics: ConductorPoolStatistics { pool.statistics }

    /// Hit, miss and eviction counts of the day-proof cache.
    public var cacheStatistics: CacheStatistics { cache.storage.statistics }

    /// Refuses new calls, waits for the calls in flight to finish, then closes the connections.
    public func shutdown() async {
        await lifecycle.drain()
        maintenance.stop()
        pool.shutdown()
    }

    /// Reads the TLS files once, when an endpoint uses TLS; a bad file is a configuration error.
    private static func tlsContext(for configuration: ConductorConfiguration) throws(ConductorError) -> TLSContext? {
        guard configuration.endpoints.contains(where: \.usesTLS) else { return nil }
        do {
            return try TLSContext(caFile: configuration.tlsCAFile, certificateFile: configuration.tlsCertificateFile,
                                  keyFile: configuration.tlsKeyFile)
        } catch {
            throw .invalidConfiguration("TLS configuration (CONDUCTOR_TLS_CA_FILE, CONDUCTOR_TLS_CERT_FILE, CONDUCTOR_TLS_KEY_FILE) is unusable: \(error.message)")
        }
    }

    private var submitSafety: CallSafety {
        configuration.submitsAreDeduplicated ? .deduplicatedWrite : .nonIdempotentWrite
    }

    private func fetchDayProof(_ day: Int32, timeout: Duration?) async throws(ConductorError) -> DayProof {
        try await call(.getDayProof, ConductorProtobufCodec.encodeDayProofRequest(day: day), safety: .idempotent,
                       timeout: timeout, decode: ConductorProtobufCodec.decodeDayProof)
    }

    private func call<Response>(
        _ method: ConductorMethod,
        _ body: [UInt8],
        safety: CallSafety,
        timeout: Duration?,
        decode: ([UInt8]) throws(ConductorProtobufCodec.InvalidMessage) -> Response
    ) async throws(ConductorError) -> Response {
        guard lifecycle.enter() else {
            throw ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down", method: method)
        }
        defer { lifecycle.leave() }
        let (message, endpoint) = try await caller.call(method, body: body, safety: safety, timeout: timeout)
        do {
            return try decode(message)
        } catch {
            throw ConductorError(kind: .rpcFailed, code: .internalError,
                                 message: "the response is not a valid \(error.messageType) message",
                                 method: method, endpoint: endpoint.description, attempts: 1)
        }
    }
}
