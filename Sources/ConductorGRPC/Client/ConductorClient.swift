import GRPCWire
import BridgeResilience
import Logging
import Metrics
import ServiceLifecycle
import Tracing

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
    private let interceptors: [any ConductorInterceptor]
    private let tracing: CallTracing
    private let requestCompression: GRPCCompression?
    private let logger: Logger
    /// The durable outbox (``ConductorConfiguration/outboxPath``), delivered by ``run()``; nil without one.
    public let outbox: ConductorOutbox?
    let coalescer: SubmitCoalescer?
    /// The executor of the event-loop thread that sends and receives this client's calls: the
    /// process-wide HTTP/2 loop (gRPC, and REST when every endpoint is `https://`), or a REST
    /// client's own libcurl loop (nil only for a test transport).
    ///
    /// Code that runs on it (`withTaskExecutorPreference(client.loopExecutor) { … }`) submits its
    /// calls and is resumed with their answers on that one thread: two thread hand-overs per call
    /// fewer, which lowers both latency and CPU per call (see Benchmarks/README.md). The loop
    /// serves every connection, so everything such code does between calls delays their I/O:
    /// use it for callers that do little between calls and never block the thread. A REST
    /// client's libcurl loop ends with ``shutdown()``; tasks that still prefer it then run on the
    /// global executor.
    public let loopExecutor: (any TaskExecutor)?

    /// Creates a client. Connections open lazily, on the first call.
    ///
    /// - Parameters:
    ///   - configuration: where and how to call; see ``ConductorConfiguration/fromEnvironment(_:)``.
    ///   - logger: receives breaker transitions (warning/notice) and retries (debug); never payloads.
    ///   - metricsFactory: where metrics go; `nil` means the backend bootstrapped with
    ///     `MetricsSystem.bootstrap` (bootstrap it before creating the client).
    ///   - interceptors: run around every call, in this order (see ``ConductorInterceptor``);
    ///     with ``ConductorConfiguration/authTokenFile`` set, a ``BearerTokenInterceptor``
    ///     reading that file runs first.
    ///   - tracer: makes one client span per call and injects its context into the metadata;
    ///     `nil` means the tracer bootstrapped with `InstrumentationSystem.bootstrap` (bootstrap it
    ///     before creating the client). Without a tracer, calls do no tracing work at all.
    public convenience init(
        configuration: ConductorConfiguration,
        logger: Logger = Logger(label: "conductor.grpc"),
        metricsFactory: (any MetricsFactory)? = nil,
        interceptors: [any ConductorInterceptor] = [],
        tracer: (any Tracer)? = nil
    ) throws(ConductorError) {
        try self.init(configuration: configuration, logger: logger, metricsFactory: metricsFactory, interceptors: interceptors,
                      tracer: tracer, transport: nil, clock: SystemCallClock())
    }

    /// Creates a client over `transport` (nil: HTTP/2 over the network) reading time from `clock`.
    init(
        configuration: ConductorConfiguration,
        logger: Logger,
        metricsFactory: (any MetricsFactory)?,
        interceptors: [any ConductorInterceptor] = [],
        tracer: (any Tracer)? = nil,
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
        self.interceptors = try Self.authInterceptors(for: configuration) + interceptors
        self.tracing = CallTracing(tracer)
        // REST bodies are JSON: gRPC message compression does not apply (gzip answers are still read).
        self.requestCompression = configuration.wireProtocol == .grpc ? GRPCCompression(rawValue: configuration.compression.rawValue) : nil
        let metricsFactory = metricsFactory ?? MetricsSystem.factory
        let metrics = ConductorMetrics(factory: metricsFactory, poolType: configuration.wireProtocol.rawValue)
        self.logger = logger
        self.outbox = try configuration.outboxPath.map { path throws(ConductorError) in
            try ConductorOutbox(configuration: configuration, path: path, metricsFactory: metricsFactory)
        }
        self.coalescer = configuration.submitCoalesceWindow.map { window in
            SubmitCoalescer(window: window, maxEvents: configuration.submitCoalesceMax, clock: clock, metricsFactory: metricsFactory)
        }
        // dns:/// names are resolved by run(), or by the first call (until then the pool has no address for them).
        let literal = configuration.endpoints.filter { if case .dns = $0.transport { false } else { true } }
        let network: any ConductorTransport
        if let transport { network = transport } else { network = try Self.networkTransport(for: configuration) }
        self.loopExecutor = network.loopExecutor
        self.pool = ChannelPool(addresses: literal, configuration: configuration, tls: try Self.tlsContext(for: configuration),
                                transport: network, clock: clock,
                                logger: logger, metrics: metrics)
        self.maintenance = PoolMaintenance(pool: pool, configuration: configuration, logger: logger)
        self.caller = ResilientCaller(
            pool: pool,
            policy: RetryPolicy(maxRetries: configuration.maxRetries, backoffBase: configuration.retryDelay,
                                backoffCap: configuration.retryMaxDelay),
            configuration: configuration, logger: logger)
        self.cache = DayProofCache(configuration: configuration, metrics: metrics)
    }

    deinit {
        pool.shutdown()
    }

    /// Runs the client's background work until the client shuts down: health checks every
    /// ``ConductorConfiguration/healthCheckInterval`` and the `dns:///` refreshes, as child tasks
    /// of this call (nothing runs in the background otherwise; calls work without `run()`, and a
    /// client that is never run resolves its `dns:///` names once, on its first call).
    ///
    /// In a `ServiceGroup`, graceful shutdown (SIGTERM) stops new calls, lets the calls in flight
    /// finish for up to ``ConductorConfiguration/shutdownGracePeriod``, fails the rest with
    /// ``ConductorError/Kind/shutDown``, closes the connections and returns. Cancelling the task
    /// does the same without the grace period. ``shutdown(gracePeriod:)`` from elsewhere also
    /// ends `run()`.
    ///
    /// ```swift
    /// let group = ServiceGroup(services: [client, httpServer], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintenance.run() }
                if let outbox {
                    let deliverer = OutboxDeliverer(outbox: outbox, client: self, clock: pool.clock, logger: logger)
                    group.addTask { await deliverer.run() }
                }
                await lifecycle.waitForShutdownRequest()
                group.cancelAll()
            }
        } onCancelOrGracefulShutdown: { [lifecycle] in
            lifecycle.requestShutdown()
        }
        await shutdown(gracePeriod: Task.isCancelled ? .zero : configuration.shutdownGracePeriod)
    }

    /// The conductor's proof for `day` with the default options; a cached proof is returned before
    /// anything else is made (this is the hot path of a cache hit).
    nonisolated(nonsending)
    public func dayProof(_ day: Int32) async throws(ConductorError) -> DayProof {
        if let cached = cache.storage.cachedValue(for: day) { return cached }
        return try await dayProof(day, options: ConductorCallOptions())
    }

    /// The conductor's proof for `day`. A day without a proof throws `NOT_FOUND` (remembered for
    /// 5 s). Canonical proofs are cached until evicted, others for ``ConductorConfiguration/cacheTTL``;
    /// ``ConductorCallOptions/cachePolicy`` `.reload` always asks the conductor.
    nonisolated(nonsending)
    public func dayProof(_ day: Int32, options: ConductorCallOptions) async throws(ConductorError) -> DayProof {
        switch options.cachePolicy {
        case .useCache:
            // A hit returns before the loader closure (an allocation) is made.
            if let cached = cache.storage.cachedValue(for: day) { return cached }
            return try await cache.proof(for: day) { [self] day throws(ConductorError) in
                try await perform(.dayProof(day), options: options).message
            }
        case .reload:
            let proof = try await perform(.dayProof(day), options: options).message
            cache.store(proof)
            return proof
        }
    }

    /// Submits one event; the receipt's hash identifies the event's content.
    ///
    /// With ``ConductorConfiguration/submitCoalesceWindow`` set (`CONDUCTOR_SUBMIT_COALESCE_WINDOW`),
    /// a submit without options of its own waits up to the window for others and goes out with
    /// them in one `SubmitEventsBatch` (up to ``ConductorConfiguration/submitCoalesceMax`` events);
    /// it still gets its own receipt, or its own error: when the conductor rejects a batch as
    /// `INVALID_ARGUMENT`, halves are sent again until only the invalid events' callers fail. An
    /// error other than that is every caller's in the batch, and names `SubmitEventsBatch`.
    public func submit(_ event: ConductorEvent, options: ConductorCallOptions) async throws(ConductorError) -> ConductorReceipt {
        if let coalescer, options.isDefault {
            return try await withCallRegistered(.submitEvent) { () async throws(ConductorError) in
                try await coalescer.submit(event) { [self] events throws(ConductorError) in
                    try await performRegistered(.submit(batch: events), options: ConductorCallOptions()).message
                }
            }
        }
        return try await perform(.submit(event), options: options).message
    }

    /// Submits events all-or-nothing: one receipt per event, in order, or an error and no event applied.
    public func submit(batch events: [ConductorEvent], options: ConductorCallOptions) async throws(ConductorError) -> [ConductorReceipt] {
        try await perform(.submit(batch: events), options: options).message
    }

    /// The conductor's health, from `chorus.ConductorBridge/HealthCheck`.
    public func health(service: String, options: ConductorCallOptions) async throws(ConductorError) -> ServingStatus {
        try await perform(.health(service: service), options: options).message
    }

    /// The health reported by the standard `grpc.health.v1.Health/Check` service; an empty
    /// service name asks about the whole server.
    public func standardHealth(service: String = "", options: ConductorCallOptions = ConductorCallOptions())
        async throws(ConductorError) -> ServingStatus {
        try await perform(.standardHealth(service: service), options: options).message
    }

    /// Performs `request` (never from the cache) and returns its answer with the response
    /// headers, the trailers, the endpoint that answered and the number of attempts.
    public func response<Message>(
        to request: ConductorRequest<Message>,
        options: ConductorCallOptions = ConductorCallOptions()
    ) async throws(ConductorError) -> ConductorResponse<Message> {
        let (message, result) = try await perform(request, options: options, keepsResponseHeaders: true)
        return ConductorResponse(message: message, initialMetadata: result.initialMetadata, trailers: result.trailers,
                                 endpoint: result.endpoint, attempts: result.attempts)
    }

    /// The state of the first endpoint's circuit breaker (see ``statistics`` for every endpoint).
    public var circuitBreakerState: CircuitBreakerState { pool.statistics.endpoints.first?.breakerState ?? .closed }

    /// Every endpoint's health, breaker and connections: state, streams in flight, calls,
    /// failures, reconnects.
    public var statistics: ConductorPoolStatistics { pool.statistics }

    /// Hit, miss and eviction counts of the day-proof cache.
    public var cacheStatistics: CacheStatistics { cache.storage.statistics }

    /// Shuts down with the configuration's ``ConductorConfiguration/shutdownGracePeriod``; see
    /// ``shutdown(gracePeriod:)``.
    public func shutdown() async {
        await shutdown(gracePeriod: configuration.shutdownGracePeriod)
    }

    /// Refuses new calls (``ConductorError/Kind/shutDown``; a day proof the cache holds is still
    /// answered from it), waits up to `gracePeriod` for the calls
    /// in flight to finish, then fails those still running (also ``ConductorError/Kind/shutDown``)
    /// and closes every connection. `nil` waits as long as the calls take. Returns once the
    /// connections are closed; concurrent and later calls wait for the same shutdown. Ends ``run()``.
    public func shutdown(gracePeriod: Duration?) async {
        guard lifecycle.claimShutdown() else {
            await lifecycle.waitUntilClosed()
            return
        }
        if let gracePeriod {
            let clock = pool.clock
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.lifecycle.drained() }
                group.addTask { try? await clock.sleep(until: clock.now() + gracePeriod) }
                await group.next() // the drain, the grace period's end, or the task's cancellation
                group.cancelAll()
            }
            if lifecycle.hasCallsInFlight {
                lifecycle.markForced()
                pool.abort()
            }
        }
        await lifecycle.drained() // the calls cut off fail at once (returns at once if this task is cancelled)
        pool.shutdown()
        await outbox?.close()
        await pool.closeTransport()
        lifecycle.markClosed()
    }

    /// Runs `body` as a call in flight: refused once shutdown has begun, waited for by the shutdown.
    func withCallRegistered<Value>(
        _ method: ConductorMethod,
        _ body: () async throws(ConductorError) -> Value
    ) async throws(ConductorError) -> Value {
        guard lifecycle.enter() else {
            throw ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down", method: method)
        }
        defer { lifecycle.leave() }
        return try await body()
    }

    /// The bearer-token interceptor for ``ConductorConfiguration/authTokenFile``; the file must be
    /// readable at start-up, so that a wrong path is a configuration error rather than a failed call.
    private static func authInterceptors(for configuration: ConductorConfiguration) throws(ConductorError) -> [any ConductorInterceptor] {
        guard let path = configuration.authTokenFile else { return [] }
        let source = FileTokenSource(path: path)
        do {
            _ = try source.read()
        } catch {
            throw .invalidConfiguration("CONDUCTOR_AUTH_TOKEN_FILE: \(error.message)")
        }
        return [BearerTokenInterceptor(provider: source.token)]
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

    private static func networkTransport(for configuration: ConductorConfiguration) throws(ConductorError) -> any ConductorTransport {
        switch configuration.wireProtocol {
        case .grpc: NGHTTP2Transport(configuration: configuration)
        case .http: try RESTTransport(configuration: configuration)
        }
    }

    private func safety(of method: ConductorMethod) -> CallSafety {
        switch method {
        case .submitEvent, .submitEventsBatch:
            configuration.submitsAreDeduplicated ? .deduplicatedWrite : .nonIdempotentWrite
        case .getDayProof, .healthCheck, .standardHealthCheck:
            .idempotent
        }
    }

    /// One call: the client's metadata and the call's, the interceptors, the resilient call, the
    /// decoding of the answer.
    private func perform<Message>(
        _ request: ConductorRequest<Message>,
        options: ConductorCallOptions,
        keepsResponseHeaders: Bool = false
    ) async throws(ConductorError) -> (message: Message, result: ConductorCallResult) {
        guard lifecycle.enter() else {
            throw ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down",
                                 method: request.method)
        }
        defer { lifecycle.leave() }
        return try await performRegistered(request, options: options, keepsResponseHeaders: keepsResponseHeaders)
    }

    /// ``perform(_:options:keepsResponseHeaders:)`` for a call already counted in flight.
    private func performRegistered<Message>(
        _ request: ConductorRequest<Message>,
        options: ConductorCallOptions,
        keepsResponseHeaders: Bool = false
    ) async throws(ConductorError) -> (message: Message, result: ConductorCallResult) {
        if maintenance.needsDNS { await maintenance.resolveIfNeeded() }
        let (call, body) = prepared(request, options: options)
        let result: ConductorCallResult
        do {
            result = try await traced(call, body: body, keepsResponseHeaders: keepsResponseHeaders)
        } catch {
            throw shutDownError(error)
        }
        return try Self.decoded(request, from: result)
    }

    // What `performRegistered` does before and after its await, out of line: an async function's
    // frame holds every local that lives across any of its awaits, and every call in flight keeps
    // it (these took 450 bytes of it).

    /// The call's metadata (the client's, then the call's) and its framed, maybe compressed body.
    @inline(never)
    private func prepared<Message>(_ request: ConductorRequest<Message>, options: ConductorCallOptions) -> (ConductorCall, [UInt8]) {
        var metadata = configuration.metadata
        if metadata.isEmpty {
            metadata = options.metadata
        } else {
            metadata.append(contentsOf: options.metadata)
        }
        let call = ConductorCall(method: request.method, metadata: metadata, timeout: options.timeout, logger: options.logger)
        return (call, requestCompression.map { $0.compressFramed(request.body) } ?? request.body)
    }

    /// A call's error, or, when a forced shutdown cut the call off, that.
    @inline(never)
    private func shutDownError(_ error: ConductorError) -> ConductorError {
        guard lifecycle.wasForced else { return error }
        var cutOff = error
        cutOff.kind = .shutDown
        cutOff.message = "the client shut down before the call finished (\(error.message))"
        return cutOff
    }

    @inline(never)
    private static func decoded<Message>(_ request: ConductorRequest<Message>, from result: ConductorCallResult)
        throws(ConductorError) -> (message: Message, result: ConductorCallResult) {
        do {
            return (try request.decode(result.message), result)
        } catch {
            throw ConductorError(kind: .rpcFailed, code: .internalError, message: error.explanation,
                                 method: request.method, endpoint: result.endpoint, attempts: result.attempts)
        }
    }

    /// The call in its trace span, when a tracer is set.
    ///
    /// The span and the interceptors are each a function of its own, never inlined here: what they
    /// hold across their awaits would otherwise sit in this async frame for every call.
    @inline(never)
    private func traced(_ call: ConductorCall, body: [UInt8], keepsResponseHeaders: Bool) async throws(ConductorError)
        -> ConductorCallResult {
        if let tracer = tracing.tracer {
            return try await spanned(call, tracer: tracer, body: body, keepsResponseHeaders: keepsResponseHeaders)
        }
        guard interceptors.isEmpty else {
            return try await intercepted(call, body: body, keepsResponseHeaders: keepsResponseHeaders, onEvent: nil)
        }
        return try await send(call, body: body, keepsResponseHeaders: keepsResponseHeaders, onEvent: nil)
    }

    @inline(never)
    private func spanned(_ call: ConductorCall, tracer: any Tracer, body: [UInt8], keepsResponseHeaders: Bool)
        async throws(ConductorError) -> ConductorCallResult {
        try await CallSpan.run(call, tracer: tracer) { call, onEvent throws(ConductorError) in
            try await intercepted(call, body: body, keepsResponseHeaders: keepsResponseHeaders, onEvent: onEvent)
        }
    }

    /// The call through the interceptors, in order, then ``send(_:body:keepsResponseHeaders:onEvent:)``.
    @inline(never)
    private func intercepted(
        _ call: ConductorCall,
        body: [UInt8],
        keepsResponseHeaders: Bool,
        onEvent: (@Sendable (ResilientCaller.CallEvent) -> Void)?
    ) async throws(ConductorError) -> ConductorCallResult {
        guard !interceptors.isEmpty else {
            return try await send(call, body: body, keepsResponseHeaders: keepsResponseHeaders, onEvent: onEvent)
        }
        var next: ConductorCall.Next = { [self] call throws(ConductorError) in
            try await send(call, body: body, keepsResponseHeaders: keepsResponseHeaders, onEvent: onEvent)
        }
        for interceptor in interceptors.reversed() {
            let inner = next
            next = { call throws(ConductorError) in try await interceptor.intercept(call, next: inner) }
        }
        return try await next(call)
    }

    private func send(
        _ call: ConductorCall,
        body: [UInt8],
        keepsResponseHeaders: Bool,
        onEvent: (@Sendable (ResilientCaller.CallEvent) -> Void)?
    ) async throws(ConductorError) -> ConductorCallResult {
        let answer = try await caller.call(
            ResilientCaller.Request(method: call.method, safety: safety(of: call.method), timeout: call.timeout,
                                    metadata: call.metadata.wire, keepsResponseHeaders: keepsResponseHeaders, onEvent: onEvent,
                                    logger: call.logger),
            body: body)
        return ConductorCallResult(attempts: answer.attempts, message: answer.message, answeredBy: answer.endpoint,
                                   headers: answer.headers, trailerFields: answer.trailers)
    }
}
