import BridgeResilience
@testable import ConductorGRPC
import Testing

/// Active health checks inside `run()`, on the manual clock.
@Suite("Health rules (in process)", .timeLimit(.minutes(1)))
struct HealthRuleTests {
    /// `grpc.health.v1.HealthCheckResponse` with status NOT_SERVING.
    private static let notServing: [UInt8] = [0x08, 0x02]

    @Test func unimplementedFromTheStandardHealthServiceCountsAsServing() async throws {
        let harness = try InProcessClient {
            $0.healthCheckInterval = .seconds(5)
            $0.healthCheckService = .grpc
        }
        let start = harness.clock.now()
        let firstCheck = start + .seconds(5)
        let running = Task { try await harness.client.run() }
        await harness.clock.waitForClientSleep { $0 == start + .seconds(1) } // the first utilization sample
        harness.clock.advance(to: firstCheck)
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        let check = await connection.exchanges.next()
        #expect(check.header(":path") == "/grpc.health.v1.Health/Check")
        check.succeed(Self.notServing)
        await Self.until { harness.client.statistics.endpoints.first?.serving == false }
        await harness.clock.waitForClientSleep { $0 == firstCheck + .seconds(1) } // the loop sleeps again

        harness.clock.advance(to: firstCheck + .seconds(5))
        let second = await connection.exchanges.next()
        second.fail(.unimplemented, message: "unknown service grpc.health.v1.Health")
        await Self.until { harness.client.statistics.endpoints.first?.serving == true }

        await harness.client.shutdown(gracePeriod: .zero)
        try await running.value
    }

    /// Returns once `condition` holds (records an issue if it never does).
    private static func until(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async {
        for _ in 0..<InProcessClient.patience {
            if condition() { return }
            await Task.yield()
        }
        Issue.record("condition never held", sourceLocation: sourceLocation)
    }
}
