import BridgeResilience
import ConductorGRPC
import Foundation
import MetricsTestKit
import Testing

/// Behaviours that made healthy calls fail or stall, each checked against a real grpcio conductor.
@Suite(.serialized) struct ZeroSpuriousFailureTests {
    /// Runs `calls` GetDayProof calls at once (day `day(i)`, reloading) and returns their failures.
    private func burst(_ client: ConductorClient, _ calls: Int, day: @escaping @Sendable (Int) -> Int32) async -> [ConductorError] {
        await withTaskGroup(of: ConductorError?.self) { group in
            for index in 0..<calls {
                group.addTask {
                    await conductorError { () async throws(ConductorError) in try await client.dayProof(day(index), options: ConductorCallOptions(cachePolicy: .reload)) }
                }
            }
            var failures: [ConductorError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
    }

    @Test func aColdClientBurstingAtAFourStreamServerSucceedsEveryCallWithinTheLimit() async throws {
        let server = try await ReferenceConductor.start(["--max-concurrent-streams", "4"])
        let client = try makeClient(server.url, timeout: .seconds(30)) { $0.healthCheckInterval = nil }
        let failures = await burst(client, 300) { Int32($0 + 1) }
        let failed = failures.count, examples = failures.prefix(3).map(\.description)
        #expect(failed == 0, "failures among 300 calls: \(examples)")
        let channels = client.statistics.endpoints.flatMap(\.channels)
        #expect(channels.allSatisfy { $0.peakOpenStreams <= 4 }, "\(channels.map(\.peakOpenStreams))")
        let byPeer = Dictionary(grouping: server.log().filter { $0.method == "GetDayProof" }, by: \.peer)
        #expect(byPeer.values.allSatisfy { maximumOverlap($0) <= 4 }, "server-side overlap per connection: \(byPeer.mapValues(maximumOverlap))")
        #expect(client.circuitBreakerState == .closed)
        await client.shutdown()
    }

    @Test func fiftyBurstsOfFiveHundredCallersAtATenStreamServerHaveNoFailure() async throws {
        let server = try await ReferenceConductor.start(["--max-concurrent-streams", "10"])
        let client = try makeClient(server.url, timeout: .seconds(60)) { $0.healthCheckInterval = nil }
        var failures: [ConductorError] = []
        for run in 0..<50 {
            failures += await burst(client, 500) { Int32((run * 500 + $0) % 999 + 1) }
        }
        let failed = failures.count, examples = failures.prefix(3).map(\.description)
        #expect(failed == 0, "failures among 25,000 calls: \(examples)")
        await client.shutdown()
    }

    @Test func anUnreachableConductorOpensTheBreakerAndItClosesWithinOneBackoffOfTheRestart() async throws {
        let server = try await ReferenceConductor.start()
        let port = server.port
        let metrics = TestMetrics()
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.timeout = .seconds(2)
        configuration.healthCheckInterval = nil
        configuration.circuitBreakerThreshold = 3
        configuration.reconnectBackoff = ConnectionBackoff(initial: .milliseconds(200), maximum: .milliseconds(500))
        let client = try ConductorClient(configuration: configuration, metricsFactory: metrics)
        _ = try await client.health()
        let gauge = try metrics.expectGauge("bridge_conductor_circuit_breaker_state",
                                            [("client_type", "grpc"), ("endpoint", "127.0.0.1:\(port)")])
        #expect(gauge.lastValue == 0)

        server.kill()
        let clock = ContinuousClock()
        let outageEnd = clock.now + .seconds(10)
        while client.circuitBreakerState != .open && clock.now < outageEnd {
            _ = await conductorError { () async throws(ConductorError) in try await client.health() }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(client.circuitBreakerState == .open, "three failed connection attempts in a row open the breaker")
        #expect(gauge.lastValue == 1)
        let rejected = await conductorError { () async throws(ConductorError) in try await client.health() }
        #expect(rejected?.code == .unavailable)

        let restarted = try await ReferenceConductor.start(port: port)
        let restartedAt = clock.now
        // Without the reconnect the breaker would wait out its 60 s timeout: 10 s tells the two apart
        // on a loaded machine too (the backoff is at most 0.5 s).
        while client.circuitBreakerState != .closed && clock.now - restartedAt < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let recovery = clock.now - restartedAt
        #expect(client.circuitBreakerState == .closed)
        #expect(gauge.lastValue == 0)
        #expect(recovery < .seconds(10), "closed \(recovery) after the restart; the backoff is at most 0.5 s")
        #expect(try await client.health() == .serving)
        await client.shutdown()
        restarted.stop()
    }

    @Test func fiveHundredTwelveCallsAtAServerThatEnforcesAnUnadvertisedHundredStreamLimitCauseNoGOAWAYAndNoResend() async throws {
        let server = try await FaultServer.start(mode: "unadvertised-limit-100", ["--delay-ok", "0.2"])
        let client = try makeClient(server.url, timeout: .seconds(30)) { $0.healthCheckInterval = nil }
        let failures = await burst(client, 512) { Int32($0 + 1) }
        let failed = failures.count, examples = failures.prefix(3).map(\.description)
        #expect(failed == 0, "failures among 512 calls: \(examples)")
        #expect(server.log("goaway").isEmpty, "no connection ever had more than 100 streams open")
        #expect(server.log("request").count == 512, "every call reached the server exactly once")
        let connections = server.log("connection").count
        #expect(connections >= 2 && connections <= 4, "more connections opened for the waiting calls, up to the bound: \(connections)")
        await client.shutdown()
    }
}
