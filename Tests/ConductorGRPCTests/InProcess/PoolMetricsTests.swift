import BridgeResilience
@testable import ConductorGRPC
import MetricsTestKit
import Testing

/// The pool's gauges, following one connection through its life (in process, manual clock).
@Suite("Pool metrics (in process)", .timeLimit(.minutes(1)))
struct PoolMetricsTests {
    @Test func theGaugesFollowAConnectionThroughConnectingReadyAndClosed() async throws {
        let metrics = TestMetrics()
        let harness = try InProcessClient(metrics: metrics)
        func connections(_ state: ChannelState) -> Double? {
            try? metrics.expectGauge("bridge_conductor_connections", [("pool_type", "grpc"), ("state", state.rawValue)]).lastValue
        }
        func poolSize() -> Double? {
            try? metrics.expectGauge("bridge_conductor_connection_pool_size", [("pool_type", "grpc")]).lastValue
        }
        func utilization() -> Double? {
            try? metrics.expectGauge("bridge_conductor_connection_pool_utilization", [("pool_type", "grpc")]).lastValue
        }

        let call = harness.health()
        let connection = await harness.transport.connections.next()
        await harness.waitForParkedCalls(1)
        #expect(connections(.connecting) == 1)
        #expect(connections(.ready) == 0)
        #expect(poolSize() == 0)

        connection.becomeReady(maxConcurrentStreams: 4)
        let exchange = await connection.exchanges.next()
        #expect(connections(.connecting) == 0)
        #expect(connections(.ready) == 1)
        #expect(poolSize() == 1)

        let running = Task { try await harness.client.run() }
        let sample = harness.clock.now() + PoolMaintenance.utilizationInterval
        await harness.clock.waitForClientSleep { $0 == sample }
        harness.clock.advance(by: PoolMaintenance.utilizationInterval)
        await harness.clock.waitForClientSleep { $0 == sample + PoolMaintenance.utilizationInterval }
        #expect(utilization() == 0.25, "one stream of the four the server allows")

        exchange.succeed(InProcessClient.serving)
        #expect(try await call.value == .serving)
        connection.close(reason: "connection reset by peer")
        #expect(connections(.ready) == 0)
        #expect(poolSize() == 0)
        #expect(connections(.idle).map { $0 + (connections(.transientFailure) ?? 0) } == 1)

        await harness.client.shutdown(gracePeriod: .zero)
        try await running.value
        #expect(connections(.shutdown) == 1)
    }
}
