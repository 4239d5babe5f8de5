import ConductorGRPC
import Foundation
import MetricsTestKit
import Testing

/// The metrics a scripted sequence of calls leaves behind, recorded by swift-metrics' test backend.
@Suite(.serialized) struct MetricsTests {
    @Test func scriptedSequenceRecordsExactCountsAndLabels() async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "HealthCheck=1"])
        let metrics = TestMetrics()
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.retryDelay = .milliseconds(5)
        configuration.healthCheckInterval = nil
        let client = try ConductorClient(configuration: configuration, metricsFactory: metrics)

        _ = try await client.dayProof(1)                 // miss, RPC ok
        _ = try await client.dayProof(1)                 // hit
        _ = try await client.dayProof(2)                 // miss, RPC ok
        _ = await conductorError { () async throws(ConductorError) in try await client.dayProof(5000) } // miss, NOT_FOUND
        _ = try await client.submit(ConductorEvent(eventType: "m", epoch: 1))
        _ = try await client.health()                    // UNAVAILABLE once, retried, then ok

        #expect(metrics.requests("GetDayProof", "success", "OK") == 2)
        #expect(metrics.requests("GetDayProof", "error", "NOT_FOUND") == 1)
        #expect(metrics.requests("SubmitEvent", "success", "OK") == 1)
        #expect(metrics.requests("HealthCheck", "success", "OK") == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_requests_total") == 5)
        #expect(metrics.counterTotal(label: "bridge_conductor_retries_total",
                                     dimensions: [("method", "HealthCheck"), ("reason", "UNAVAILABLE")]) == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_cache_hits_total", dimensions: [("cache_type", "day_proof")]) == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_cache_misses_total", dimensions: [("cache_type", "day_proof")]) == 3)
        let latency = try metrics.expectTimer("bridge_conductor_latency_seconds", [("method", "GetDayProof")])
        #expect(latency.values.count == 3)
        #expect(latency.values.allSatisfy { $0 > 0 && $0 < 5_000_000_000 })
        let breaker = try metrics.expectGauge("bridge_conductor_circuit_breaker_state",
                                              [("client_type", "grpc"), ("endpoint", "127.0.0.1:\(server.port)")])
        #expect(breaker.lastValue == 0)
        let pool = try metrics.expectGauge("bridge_conductor_connection_pool_size", [("pool_type", "grpc")])
        #expect(pool.lastValue == 1)
        await client.shutdown()
    }

    @Test func theRESTClientRecordsTheSameSeriesWithItsProtocolAsPoolAndClientType() async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "GetDayProof=1"], protocol: .rest)
        let metrics = TestMetrics()
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.wireProtocol = .http
        configuration.retryDelay = .milliseconds(5)
        configuration.healthCheckInterval = nil
        let client = try ConductorClient(configuration: configuration, metricsFactory: metrics)

        _ = try await client.dayProof(1)                 // UNAVAILABLE once, retried, then ok
        _ = try await client.dayProof(1)                 // hit
        _ = await conductorError { () async throws(ConductorError) in try await client.dayProof(5000) } // NOT_FOUND
        _ = try await client.submit(batch: [ConductorEvent(eventType: "m", epoch: 1)])

        #expect(metrics.requests("GetDayProof", "success", "OK") == 1)
        #expect(metrics.requests("GetDayProof", "error", "NOT_FOUND") == 1)
        #expect(metrics.requests("SubmitEventsBatch", "success", "OK") == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_retries_total",
                                     dimensions: [("method", "GetDayProof"), ("reason", "UNAVAILABLE")]) == 1)
        let breaker = try metrics.expectGauge("bridge_conductor_circuit_breaker_state",
                                              [("client_type", "http"), ("endpoint", "127.0.0.1:\(server.port)")])
        #expect(breaker.lastValue == 0)
        let pool = try metrics.expectGauge("bridge_conductor_connection_pool_size", [("pool_type", "http")])
        #expect(pool.lastValue == 1, "one HTTP/1.1 connection served the calls one at a time")
        await client.shutdown()
    }

    @Test func openBreakerIsCountedAndShownAsOne() async throws {
        let server = try await ReferenceConductor.start(["--error", "HealthCheck=UNAVAILABLE"])
        let metrics = TestMetrics()
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.maxRetries = 0
        configuration.circuitBreakerThreshold = 2
        configuration.healthCheckInterval = nil
        let client = try ConductorClient(configuration: configuration, metricsFactory: metrics)
        for _ in 1...3 { _ = await conductorError { () async throws(ConductorError) in try await client.health() } }
        #expect(metrics.counterTotal(label: "bridge_conductor_requests_total",
                                     dimensions: [("method", "HealthCheck"), ("status", "error"), ("code", "UNAVAILABLE")]) == 2)
        #expect(metrics.counterTotal(label: "bridge_conductor_requests_total",
                                     dimensions: [("method", "HealthCheck"), ("status", "circuit_breaker_open"), ("code", "UNAVAILABLE")]) == 1)
        let breaker = try metrics.expectGauge("bridge_conductor_circuit_breaker_state",
                                              [("client_type", "grpc"), ("endpoint", "127.0.0.1:\(server.port)")])
        #expect(breaker.lastValue == 1)
        await client.shutdown()
    }

    @Test func memoryModeRecordsTheSameRequestLatencyAndCacheMetrics() async throws {
        let metrics = TestMetrics()
        var configuration = ConductorConfiguration()
        configuration.mode = .memory
        let conductor = try configuration.makeService(metricsFactory: metrics)
        _ = try await conductor.dayProof(1)                 // miss, RPC ok
        _ = try await conductor.dayProof(1)                 // hit
        _ = await conductorError { () async throws(ConductorError) in try await conductor.dayProof(5000) } // miss, NOT_FOUND
        _ = try await conductor.submit(ConductorEvent(eventType: "m", epoch: 1))
        _ = try await conductor.health()
        await conductor.shutdown()
        #expect(metrics.requests("GetDayProof", "success", "OK") == 1)
        #expect(metrics.requests("GetDayProof", "error", "NOT_FOUND") == 1)
        #expect(metrics.requests("SubmitEvent", "success", "OK") == 1)
        #expect(metrics.requests("HealthCheck", "success", "OK") == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_cache_hits_total", dimensions: [("cache_type", "day_proof")]) == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_cache_misses_total", dimensions: [("cache_type", "day_proof")]) == 2)
        #expect(try metrics.expectTimer("bridge_conductor_latency_seconds", [("method", "GetDayProof")]).values.count == 2)
    }
}

extension TestMetrics {
    /// `bridge_conductor_requests_total` for one method, status and code.
    fileprivate func requests(_ method: String, _ status: String, _ code: String) -> Int64 {
        counterTotal(label: "bridge_conductor_requests_total", dimensions: [("method", method), ("status", status), ("code", code)])
    }
}
