import Metrics
import Prometheus

/// The process's swift-metrics backend: one Prometheus registry that every metric of the process
/// lands in, the client's `bridge_conductor_*` ones included, and that `GET /metrics` exposes.
enum PrometheusMetrics {
    /// Makes a new registry the backend of `MetricsSystem` and returns it.
    ///
    /// Call it once, before the conductor client is made: the client takes its metrics from the
    /// bootstrapped factory when it is created (or from the `metricsFactory:` it is given).
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
