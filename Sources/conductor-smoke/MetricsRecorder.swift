import CoreMetrics
import Prometheus

/// The smoke run's swift-metrics backend: a Prometheus registry that records everything the
/// library emits (the `bridge_conductor_*` metrics, see docs/observability.md). `--metrics`
/// prints its text exposition; the report reads the breaker and pool gauges from it.
struct MetricsRecorder: Sendable {
    /// Latency buckets for `bridge_conductor_latency_seconds`, finer than the Prometheus defaults
    /// (which start at 5 ms) because a conductor on the same network answers in well under that.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    let registry: PrometheusCollectorRegistry

    /// Makes the registry the process's metrics backend. Call it once, before the client exists.
    static func bootstrap() -> MetricsRecorder {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = latencyBuckets
        MetricsSystem.bootstrap(factory)
        return MetricsRecorder(registry: registry)
    }

    /// The Prometheus text exposition of everything recorded so far.
    func exposition() -> String {
        registry.emitToString()
    }

    /// The samples of the metric `name`.
    func samples(named name: String) -> [PrometheusSample] {
        PrometheusSample.parse(exposition()).filter { $0.name == name }
    }
}
