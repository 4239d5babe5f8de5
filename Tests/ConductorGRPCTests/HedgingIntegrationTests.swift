import ConductorGRPC
import Foundation
import MetricsTestKit
import Testing

/// Hedged day-proof reads against two reference conductors, one of which answers late.
@Suite(.serialized) struct HedgingIntegrationTests {
    @Test func aSlowConductorsStreamIsResetWhenTheOtherAnswersFirst() async throws {
        // The slow endpoint never answers an odd day's proof (it answers health checks): only the
        // fast conductor or a hedge to it can answer. Its HTTP/2 layer logs every stream it sees and
        // every RST_STREAM, so what it saw does not depend on when a handler got to run.
        let slow = try await FaultServer.start(mode: "never-ends", ["--only-odd-days"])
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
        let days = (0..<12).map { Int32(2 * $0 + 1) }
        for day in days {
            #expect(try await client.dayProof(day).dayNumber == day)
        }
        #expect(fast.log().filter { $0.method == "GetDayProof" && $0.outcome == "ok" }.count == days.count,
                "the fast conductor answered every call")
        let sent = metrics.counterTotal(label: "bridge_conductor_hedges_total", dimensions: [("method", "GetDayProof"), ("outcome", "sent")])
        #expect(sent > 0, "some calls went to the slow endpoint first (two random choices)")
        // Every proof stream the slow endpoint saw (a call's first attempt, or its hedge) was reset
        // with CANCEL once the fast answer won. A hedge cancelled before its HEADERS left is never
        // seen, so the streams seen are at most the hedges sent.
        let proofPath = "/chorus.ConductorBridge/GetDayProof"
        let streamsSeen = { Set(slow.log().filter { $0.event == "headers" && $0.path == proofPath }.map { "\($0.connection)/\($0.stream ?? 0)" }) }
        let streamsReset = { Set(slow.log().filter { $0.event == "reset" && $0.code == "CANCEL" }.map { "\($0.connection)/\($0.stream ?? 0)" }) }
        let settled = await slow.waitForLog(timeout: .seconds(10)) { _ in
            let seen = streamsSeen()
            return !seen.isEmpty && seen.isSubset(of: streamsReset())
        }
        #expect(settled != nil, "hedges: \(sent); streams seen: \(streamsSeen().sorted()), reset with CANCEL: \(streamsReset().sorted())")
        #expect(streamsSeen().count <= Int(sent))
        await client.shutdown()
    }
}
