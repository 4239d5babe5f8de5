import ConductorGRPC
import Foundation
import MetricsTestKit
import Testing

/// Hedged day-proof reads against two reference conductors, one of which answers late.
@Suite(.serialized) struct HedgingIntegrationTests {
    @Test func aSlowConductorsStreamIsResetWhenTheOtherAnswersFirst() async throws {
        // The slow conductor never answers within a call's deadline: only hedges can answer.
        let slow = try await ReferenceConductor.start(["--delay", "GetDayProof=60"])
        let fast = try await ReferenceConductor.start()
        let metrics = TestMetrics()
        var configuration = try ConductorConfiguration(baseURL: "\(slow.url),\(fast.url)")
        configuration.hedgeDelay = .milliseconds(50)
        configuration.maxRetries = 0
        configuration.healthCheckInterval = nil
        // Every hedge spends a token of the first endpoint's budget; winning answers refill the
        // other's. A big bucket keeps all 12 calls hedged (the budget rule has its own tests).
        configuration.retryBudgetMaxTokens = 100
        let client = try ConductorClient(configuration: configuration, metricsFactory: metrics)
        // A hedge takes only a stream that is free now: both connections are made first.
        _ = try await client.health()
        for _ in 0..<500 where !client.statistics.endpoints.allSatisfy({ $0.channels.contains { $0.state == .ready } }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(client.statistics.endpoints.allSatisfy { $0.channels.contains { $0.state == .ready } })
        for day in Int32(1)...12 {
            #expect(try await client.dayProof(day).dayNumber == day)
        }
        #expect(fast.log().filter { $0.method == "GetDayProof" && $0.outcome == "ok" }.count == 12, "the fast conductor answered every call")
        let sent = metrics.counterTotal(label: "bridge_conductor_hedges_total", dimensions: [("method", "GetDayProof"), ("outcome", "sent")])
        #expect(sent > 0, "some calls went to the slow conductor first (two random choices)")
        // Each hedged call met the slow conductor once (first, or as the hedge) and was cancelled
        // there when the fast one answered.
        let settled = await slow.waitForLog(timeout: .seconds(10)) { _ in
            slow.log().filter { $0.method == "GetDayProof" }.count == Int(sent)
        }
        #expect(settled != nil, "hedges: \(sent), slow conductor's log: \(slow.log().map(\.outcome))")
        #expect(slow.log().filter { $0.method == "GetDayProof" }.allSatisfy { $0.outcome == "cancelled" })
        await client.shutdown()
    }
}
