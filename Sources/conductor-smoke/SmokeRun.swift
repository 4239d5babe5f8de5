import ConductorGRPC
import Logging

/// One smoke run against a valid configuration: the checks, the optional load phase, then the
/// state of the client at the end.
struct SmokeRun {
    let configuration: ConductorConfiguration
    let day: Int32
    let allowMissing: Bool
    let batchSize: Int
    let loadDuration: Duration?
    let concurrency: Int
    let logger: Logger
    let metrics: MetricsRecorder

    func run() async throws(ConductorError) -> SmokeReport {
        let service = try configuration.makeService(logger: logger)
        let checks = SmokeChecks(service: service, day: day, allowMissing: allowMissing, batchSize: batchSize)
        let checked = await checks.run()
        var results = checked.results
        let unreachable = checked.unreachable
        var load: LoadPhase.Summary?
        if let loadDuration, !unreachable, results.allSatisfy(\.status.isSuccess) {
            let dayWasMissing = results.contains { $0.id == "day_proof" && $0.status == .notFound }
            let phase = LoadPhase(service: service, day: day, duration: loadDuration, concurrency: concurrency,
                                  expectedCodes: dayWasMissing ? [.notFound] : [])
            let summary = await phase.run()
            results.append(SmokeReport.loadCheck(summary))
            load = summary
        }
        let breakers = breakerStates(of: service)
        let poolSize = poolSize()
        await service.shutdown()
        return SmokeReport(configuration: configuration, checks: results, load: load, unreachable: unreachable,
                           breakers: breakers, poolSize: poolSize)
    }

    /// Each endpoint's breaker, from `bridge_conductor_circuit_breaker_state` when the client
    /// reported it, else from ``ConductorClient/circuitBreakerState``.
    private func breakerStates(of service: any ConductorService) -> [SmokeReport.Breaker] {
        guard let client = service as? ConductorClient else { return [] }
        let names = [0.0: "closed", 1.0: "open", 2.0: "half-open"]
        let reported = metrics.samples(named: "bridge_conductor_circuit_breaker_state").compactMap { sample -> SmokeReport.Breaker? in
            guard let endpoint = sample.labels["endpoint"], let state = names[sample.value] else { return nil }
            return SmokeReport.Breaker(endpoint: endpoint, state: state)
        }
        if !reported.isEmpty { return reported.sorted { $0.endpoint < $1.endpoint } }
        let endpoint = configuration.endpoints.first?.description ?? "?"
        return [SmokeReport.Breaker(endpoint: endpoint, state: client.circuitBreakerState.description)]
    }

    /// The pool size the client reported last, if it did.
    private func poolSize() -> Int? {
        metrics.samples(named: "bridge_conductor_connection_pool_size").first.map { Int($0.value) }
    }
}
