import BridgeResilience
@testable import ConductorGRPC
import MetricsTestKit
import Testing

/// Hedged day-proof reads (`CONDUCTOR_HEDGE_DELAY`), driven by hand over the scripted transport
/// and the manual clock.
@Suite("Hedging rules (in process)", .timeLimit(.minutes(1)))
struct HedgingRuleTests {
    private static let delay = Duration.milliseconds(50)

    /// A two-endpoint client with hedging, both endpoints ready.
    private func readyClient(configure: (inout ConductorConfiguration) -> Void = { _ in })
        async throws -> (InProcessClient, [ScriptedConnection], TestMetrics) {
        let metrics = TestMetrics()
        let harness = try InProcessClient(endpoints: 2, metrics: metrics) { configuration in
            configuration.hedgeDelay = Self.delay
            configure(&configuration)
        }
        let warmUp = harness.health()
        let connections = [await harness.transport.connections.next(), await harness.transport.connections.next()]
        for connection in connections { connection.becomeReady() }
        (await nextExchange(on: connections).exchange).succeed(InProcessClient.serving)
        _ = try await warmUp.value
        return (harness, connections, metrics)
    }

    private static func proof(_ day: Int32, source: String) -> [UInt8] {
        Array(ConductorProtobufCodec.encodeDayProof(DayProof(dayNumber: day, proof: "p", proofHash: "h", canonical: true, source: source))
            .dropFirst(GRPCMessageFramerPrefix.length))
    }

    private func hedges(_ metrics: TestMetrics, _ outcome: String) -> Int64 {
        metrics.counterTotal(label: "bridge_conductor_hedges_total", dimensions: [("method", "GetDayProof"), ("outcome", outcome)])
    }

    /// Waits until the hedges due so far were all sent or given up.
    private func waitForHedgeDecisions(_ count: Int64, _ metrics: TestMetrics) async {
        for _ in 0..<InProcessClient.patience {
            if hedges(metrics, "sent") + hedges(metrics, "not_sent") >= count { return }
            await Task.yield()
        }
        Issue.record("\(count) hedge decisions never happened")
    }

    /// Waits until the call's hedge timer runs (it sleeps `delay` from now), then lets it fire.
    private func fireHedgeTimer(_ harness: InProcessClient) async {
        let due = harness.clock.now() + Self.delay
        await harness.clock.waitForClientSleep { $0 == due }
        harness.clock.advance(to: due)
    }

    private func waitUntilIdle(_ connection: ScriptedConnection) async {
        for _ in 0..<InProcessClient.patience {
            if connection.open == 0 { return }
            await Task.yield()
        }
        Issue.record("the connection still has \(connection.open) exchanges open")
    }

    @Test func anUnansweredReadGoesToTheOtherEndpointTooAndTheFirstAnswerWinsTheOtherIsReset() async throws {
        let (harness, connections, metrics) = try await readyClient()
        let call = Task { try await harness.client.dayProof(7) }
        let (primaryConnection, primary) = await nextExchange(on: connections)
        await fireHedgeTimer(harness)
        let (hedgeConnection, hedge) = await nextExchange(on: connections)
        #expect(hedgeConnection !== primaryConnection, "the hedge goes to the other endpoint")
        #expect(hedge.header(":path") == "/chorus.ConductorBridge/GetDayProof")
        hedge.succeed(Self.proof(7, source: "hedge"))
        #expect(try await call.value.source == "hedge")
        await waitUntilIdle(primaryConnection) // the primary's stream was cancelled (reset)
        primary.succeed(Self.proof(7, source: "late")) // ignored
        #expect(hedges(metrics, "sent") == 1)
        #expect(metrics.counterTotal(label: "bridge_conductor_hedge_wins_total", dimensions: [("method", "GetDayProof")]) == 1)
    }

    @Test func anAnswerWithinTheDelayIsNotHedged() async throws {
        let (harness, connections, metrics) = try await readyClient()
        let call = Task { try await harness.client.dayProof(8) }
        let (_, primary) = await nextExchange(on: connections)
        primary.succeed(Self.proof(8, source: "primary"))
        #expect(try await call.value.source == "primary")
        harness.clock.advance(by: Self.delay * 2)
        #expect(connections.map(\.started).reduce(0, +) == 2, "the warm-up and the call, no hedge")
        #expect(hedges(metrics, "sent") + hedges(metrics, "not_sent") == 0)
    }

    @Test func aPrimaryThatWinsResetsTheHedge() async throws {
        let (harness, connections, metrics) = try await readyClient()
        let call = Task { try await harness.client.dayProof(9) }
        let (_, primary) = await nextExchange(on: connections)
        await fireHedgeTimer(harness)
        let (hedgeConnection, _) = await nextExchange(on: connections)
        primary.succeed(Self.proof(9, source: "primary"))
        #expect(try await call.value.source == "primary")
        await waitUntilIdle(hedgeConnection)
        #expect(metrics.counterTotal(label: "bridge_conductor_hedge_wins_total", dimensions: [("method", "GetDayProof")]) == 0)
    }

    @Test func noHedgeGoesToAnEndpointWhoseBreakerIsOpen() async throws {
        let (harness, connections, metrics) = try await readyClient { configuration in
            configuration.maxRetries = 0
            configuration.circuitBreakerThreshold = 1
        }
        let failing = harness.health()
        let (brokenConnection, exchange) = await nextExchange(on: connections)
        exchange.fail(.unavailable)
        _ = await callError(failing)
        let startedOnBroken = brokenConnection.started
        let call = Task { try await harness.client.dayProof(10) }
        let (primaryConnection, primary) = await nextExchange(on: connections)
        #expect(primaryConnection !== brokenConnection)
        await fireHedgeTimer(harness)
        await waitForHedgeDecisions(1, metrics)
        #expect(hedges(metrics, "not_sent") == 1)
        #expect(brokenConnection.started == startedOnBroken, "no hedge went to the endpoint whose breaker is open")
        primary.succeed(Self.proof(10, source: "primary"))
        #expect(try await call.value.source == "primary")
    }

    @Test func hedgesStopWhenTheRetryBudgetIsSpent() async throws {
        // 5 tokens per endpoint, retries (and hedges) only above 2.5: each endpoint pays for 3 hedges.
        let (harness, connections, metrics) = try await readyClient { configuration in
            configuration.retryBudgetMaxTokens = 5
            configuration.retryBudgetTokenRatio = 0.01
        }
        for day in Int32(1)...10 {
            let call = Task { try await harness.client.dayProof(day) }
            let (_, primary) = await nextExchange(on: connections)
            let sentBefore = hedges(metrics, "sent") // read before the timer fires: the hedge may go at once
            await fireHedgeTimer(harness)
            await waitForHedgeDecisions(Int64(day), metrics)
            if hedges(metrics, "sent") > sentBefore {
                (await nextExchange(on: connections).exchange).succeed(Self.proof(day, source: "hedge"))
            } else {
                primary.succeed(Self.proof(day, source: "primary"))
            }
            _ = try await call.value
            for connection in connections { await waitUntilIdle(connection) }
        }
        let sent = hedges(metrics, "sent")
        #expect(sent >= 3 && sent <= 6, "each endpoint's budget pays for 3 hedges, not 10: \(sent)")
        #expect(hedges(metrics, "not_sent") == 10 - sent)
    }
}
