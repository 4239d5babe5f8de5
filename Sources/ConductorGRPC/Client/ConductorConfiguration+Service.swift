import Logging
import Metrics

extension ConductorConfiguration {
    /// The conductor this configuration selects, behind the one protocol both modes share:
    /// a ``ConductorClient`` for ``Mode/remote`` (`CONDUCTOR_MODE=http`), an ``InMemoryConductor``
    /// with the reference conductor's days for ``Mode/memory`` (`CONDUCTOR_MODE=memory`).
    ///
    /// ```swift
    /// let conductor = try ConductorConfiguration.fromEnvironment().makeService()
    /// let proof = try await conductor.dayProof(42)
    /// await conductor.shutdown()
    /// ```
    ///
    /// Both record the same `bridge_conductor_*` request, latency and cache metrics.
    ///
    /// - Parameter logger: the remote client's logger (see ``ConductorClient/init(configuration:logger:metricsFactory:interceptors:tracer:)``);
    ///   the in-memory conductor logs nothing.
    /// - Parameter metricsFactory: where metrics go; `nil` means the bootstrapped backend.
    /// - Throws: ``ConductorError/Kind/invalidConfiguration`` listing every invalid setting, or
    ///   naming the missing endpoint in remote mode.
    public func makeService(
        logger: Logger = Logger(label: "conductor.grpc"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(ConductorError) -> any ConductorService {
        switch mode {
        case .remote:
            return try ConductorClient(configuration: self, logger: logger, metricsFactory: metricsFactory)
        case .memory:
            try validate()
            return InMemoryConductor(metricsFactory: metricsFactory)
        }
    }
}
