import BridgeResilience
import Logging
import Metrics
import Tracing

extension ConductorClient {
    /// Creates a real client — pool, retries, retry budget, circuit breakers, deadlines, cache,
    /// interceptors, metrics — whose connections lead to in-memory conductors instead of the
    /// network: for testing how a service behaves when the conductor is slow, hangs, fails or goes
    /// away, with the resilience settings it runs with in production.
    ///
    /// Each endpoint of `configuration` connects to the conductor at the same position in
    /// `conductors` (one conductor serves every endpoint). The endpoints' addresses are only names
    /// here; `dns:///` names are refused. Faults come from the conductors
    /// (``InMemoryConductor/inject(_:into:when:)``, ``InMemoryConductor/refusesConnections``);
    /// time is real, so keep timeouts and retry delays short in tests.
    ///
    /// ```swift
    /// let conductor = InMemoryConductor()
    /// conductor.inject(.fail(.unavailable), into: .getDayProof, when: .next(1))
    /// var configuration = try ConductorConfiguration(baseURL: "grpc://conductor:50051")
    /// configuration.retryDelay = .milliseconds(1)
    /// let client = try ConductorClient(configuration: configuration, connectingTo: [conductor])
    /// let response = try await client.response(to: .dayProof(42))
    /// #expect(response.attempts == 2) // the first attempt failed and was retried
    /// ```
    ///
    /// - Parameters:
    ///   - configuration: the client's settings, as in production (`CONDUCTOR_MODE` must be `remote`).
    ///   - conductors: one conductor for every endpoint, or one for all of them.
    ///   - logger: as for ``init(configuration:logger:metricsFactory:interceptors:tracer:)``.
    ///   - metricsFactory: as for ``init(configuration:logger:metricsFactory:interceptors:tracer:)``.
    ///   - interceptors: as for ``init(configuration:logger:metricsFactory:interceptors:tracer:)``.
    ///   - tracer: as for ``init(configuration:logger:metricsFactory:interceptors:tracer:)``.
    public convenience init(
        configuration: ConductorConfiguration,
        connectingTo conductors: [InMemoryConductor],
        logger: Logger = Logger(label: "conductor.grpc"),
        metricsFactory: (any MetricsFactory)? = nil,
        interceptors: [any ConductorInterceptor] = [],
        tracer: (any Tracer)? = nil
    ) throws(ConductorError) {
        let endpoints = configuration.endpoints
        guard conductors.count == 1 || conductors.count == endpoints.count else {
            throw .invalidConfiguration("\(conductors.count) in-memory conductors for \(endpoints.count) endpoints: give one per endpoint, or one for all")
        }
        if let name = endpoints.first(where: { if case .dns = $0.transport { true } else { false } }) {
            throw .invalidConfiguration("\(name) is a dns:/// name; an in-process client needs host:port endpoints")
        }
        var routes: [ConductorEndpoint: InMemoryConductor] = [:]
        for (index, endpoint) in endpoints.enumerated() {
            routes[endpoint] = conductors.count == 1 ? conductors[0] : conductors[index]
        }
        try self.init(configuration: configuration, logger: logger, metricsFactory: metricsFactory, interceptors: interceptors,
                      tracer: tracer, transport: InProcessTransport(conductors: routes), clock: SystemCallClock())
    }
}
