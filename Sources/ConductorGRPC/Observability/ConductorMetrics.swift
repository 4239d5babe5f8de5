import BridgeResilience
import LockedState
import Metrics

/// The client's metrics, emitted through swift-metrics with the seed's names so existing
/// dashboards keep working (see docs/observability.md). Metric objects are created once and
/// cached, so the call path only increments: no factory lookup per call. Create the client after
/// bootstrapping the metrics backend.
final class ConductorMetrics: Sendable {
    private struct RequestKey: Hashable {
        var method: ConductorMethod
        var status: String
        var code: ConductorError.Code
    }

    private struct RetryKey: Hashable {
        var method: ConductorMethod
        var reason: String
    }

    private let latency: [ConductorMethod: Timer]
    /// The success counter of each method, made up front: the common case takes no lock.
    private let successes: [ConductorMethod: Counter]
    private let requests = Locked<[RequestKey: Counter]>([:])
    private let retries = Locked<[RetryKey: Counter]>([:])
    private let gauges = Locked<[String: Gauge]>([:])
    private let reconnects = Locked<[String: Counter]>([:])
    /// The newest update recorded per ordered gauge family (see `recordInOrder`).
    private let latestSequences = Locked<[String: UInt64]>([:])
    private let factory: any MetricsFactory
    /// The `pool_type` label of the pool gauges: `grpc` or `http` (the seed's names).
    private let poolType: String
    let cacheHits: Counter
    let cacheMisses: Counter
    /// Hedges (`CONDUCTOR_HEDGE_DELAY`): sent; due but not sent (budget, breakers, no free stream,
    /// or the first attempt failed meanwhile); and those whose answer won.
    let hedges: Counter
    let hedgesNotSent: Counter
    let hedgeWins: Counter

    /// Metrics recorded into `factory` (the bootstrapped backend unless a test passes its own).
    init(factory: any MetricsFactory = MetricsSystem.factory, poolType: String = "grpc") {
        self.factory = factory
        self.poolType = poolType
        var latency: [ConductorMethod: Timer] = [:]
        for method in ConductorMethod.allCases {
            latency[method] = Timer(label: "bridge_conductor_latency_seconds", dimensions: [("method", method.rawValue)],
                                    factory: factory)
        }
        self.latency = latency
        var successes: [ConductorMethod: Counter] = [:]
        for method in ConductorMethod.allCases {
            successes[method] = Counter(label: "bridge_conductor_requests_total",
                                        dimensions: [("method", method.rawValue), ("status", "success"), ("code", "OK")],
                                        factory: factory)
        }
        self.successes = successes
        hedges = Counter(label: "bridge_conductor_hedges_total",
                         dimensions: [("method", ConductorMethod.getDayProof.rawValue), ("outcome", "sent")], factory: factory)
        hedgesNotSent = Counter(label: "bridge_conductor_hedges_total",
                                dimensions: [("method", ConductorMethod.getDayProof.rawValue), ("outcome", "not_sent")], factory: factory)
        hedgeWins = Counter(label: "bridge_conductor_hedge_wins_total", dimensions: [("method", ConductorMethod.getDayProof.rawValue)],
                            factory: factory)
        cacheHits = Counter(label: "bridge_conductor_cache_hits_total", dimensions: [("cache_type", "day_proof")], factory: factory)
        cacheMisses = Counter(label: "bridge_conductor_cache_misses_total", dimensions: [("cache_type", "day_proof")], factory: factory)
    }

    /// One finished call: `status` is `success`, `error` or `circuit_breaker_open`.
    func request(_ method: ConductorMethod, code: ConductorError.Code, circuitOpen: Bool, duration: Duration) {
        let (seconds, attoseconds) = duration.components
        latency[method]?.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        if code == .ok, let counter = successes[method] {
            counter.increment()
            return
        }
        let status = code == .ok ? "success" : circuitOpen ? "circuit_breaker_open" : "error"
        let key = RequestKey(method: method, status: status, code: code)
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "bridge_conductor_requests_total",
                                  dimensions: [("method", method.rawValue), ("status", status), ("code", code.name)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// One retry of `method`; `reason` is the failure that caused it.
    func retry(_ method: ConductorMethod, reason: String) {
        let key = RetryKey(method: method, reason: reason)
        retries.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "bridge_conductor_retries_total", dimensions: [("method", method.rawValue), ("reason", reason)],
                                  factory: factory)
            counters[key] = counter
            return counter
        }.increment()
    }

    /// The breaker's state: 0 closed, 1 open, 2 half-open. Updates older than one already recorded
    /// for the endpoint are dropped (the pool runs them outside its lock, on any thread).
    func breakerState(_ state: CircuitBreakerState, endpoint: String, sequence: UInt64) {
        let value: Double
        switch state {
        case .closed: value = 0
        case .open: value = 1
        case .halfOpen: value = 2
        }
        let gauge = gauge("bridge_conductor_circuit_breaker_state", [("client_type", poolType), ("endpoint", endpoint)])
        recordInOrder("breaker|" + endpoint, sequence: sequence) { gauge.record(value) }
    }

    /// Runs `record` unless an update with a later `sequence` for `key` was recorded already; the
    /// check and the recording happen under one lock, so the last value recorded is the newest.
    private func recordInOrder(_ key: String, sequence: UInt64, _ record: () -> Void) {
        latestSequences.withLock { latest in
            guard sequence > latest[key, default: 0] else { return }
            latest[key] = sequence
            record()
        }
    }

    /// 1 while the endpoint's health checks report it serving, 0 while NOT_SERVING.
    func endpointHealth(_ serving: Bool, endpoint: String) {
        gauge("bridge_conductor_endpoint_health", [("endpoint", endpoint)]).record(serving ? 1 : 0)
    }

    /// The pool's connections by state; `bridge_conductor_connection_pool_size` (the seed's name)
    /// counts the ready ones.
    func connections(_ counts: [ChannelState: Int], sequence: UInt64) {
        let gauges = counts.map { state, count in
            (gauge("bridge_conductor_connections", [("pool_type", poolType), ("state", state.rawValue)]), Double(count))
        }
        let size = gauge("bridge_conductor_connection_pool_size", [("pool_type", poolType)])
        recordInOrder("connections", sequence: sequence) {
            for (gauge, value) in gauges { gauge.record(value) }
            size.record(Double(counts[.ready] ?? 0))
        }
    }

    /// Streams in flight ÷ the stream capacity of the ready connections, sampled by the client's `run()`.
    func utilization(_ value: Double) {
        gauge("bridge_conductor_connection_pool_utilization", [("pool_type", poolType)]).record(value)
    }

    /// A new connection replaced an earlier one to `endpoint`.
    func reconnect(endpoint: String) {
        reconnects.withLock { counters in
            if let counter = counters[endpoint] { return counter }
            let counter = Counter(label: "bridge_conductor_reconnects_total", dimensions: [("endpoint", endpoint)], factory: factory)
            counters[endpoint] = counter
            return counter
        }.increment()
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return gauges.withLock { gauges in
            if let gauge = gauges[key] { return gauge }
            let gauge = Gauge(label: label, dimensions: dimensions, factory: factory)
            gauges[key] = gauge
            return gauge
        }
    }
}
