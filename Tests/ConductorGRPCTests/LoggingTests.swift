import BridgeResilience
@testable import ConductorGRPC
import Logging
import Testing

/// Log levels as swift-log asks of libraries: routine events below `warning`, repeated warnings
/// held back, the caller's logger for its own call.
@Suite("Logging", .timeLimit(.minutes(1)))
struct LoggingTests {
    @Test func theSameWarningGoesOutOncePerMinuteAndThenCountsItsRepeats() {
        let limiter = WarningLimiter()
        let start = MonotonicInstant(nanoseconds: 1_000_000_000)
        let endpointA: Logger.Metadata = ["endpoint": "a:1"]
        #expect(limiter.level(for: .warning, message: "circuit breaker opened", metadata: endpointA, at: start) == (.warning, 0))
        for second in 1...59 {
            #expect(limiter.level(for: .warning, message: "circuit breaker opened", metadata: endpointA,
                                  at: start + .seconds(second)).level == .debug)
        }
        #expect(limiter.level(for: .warning, message: "circuit breaker opened", metadata: ["endpoint": "b:1"],
                              at: start + .seconds(1)) == (.warning, 0), "another endpoint is another warning")
        #expect(limiter.level(for: .info, message: "connection lost", metadata: endpointA, at: start + .seconds(2)) == (.info, 0))
        #expect(limiter.level(for: .warning, message: "circuit breaker opened", metadata: endpointA,
                              at: start + .seconds(60)) == (.warning, 59))
    }

    @Test func aConductorThatRefusesConnectionsProducesAFewWarningsNotAFlood() async throws {
        let port = try unusedPort()
        let store = CapturingLogHandler.Store()
        var configuration = try ConductorConfiguration(baseURL: "grpc://127.0.0.1:\(port)")
        configuration.circuitBreakerThreshold = 1
        configuration.circuitBreakerTimeout = .milliseconds(20)
        configuration.reconnectBackoff = ConnectionBackoff(initial: .milliseconds(20), maximum: .milliseconds(40))
        configuration.maxRetries = 0
        configuration.timeout = .milliseconds(200)
        let client = try ConductorClient(configuration: configuration, logger: CapturingLogHandler.logger(store: store))
        var failures = 0
        for _ in 0..<30 {
            if await conductorError({ () async throws(ConductorError) in try await client.health() }) != nil { failures += 1 }
            try await Task.sleep(for: .milliseconds(30)) // let the pool try to reconnect in between
        }
        await client.shutdown()
        let records = store.all
        let warnings = records.filter { $0.level >= .warning }
        #expect(failures == 30)
        let attempts = records.filter { $0.message == "connection attempt failed" }
        #expect(attempts.count > 1, "every attempt is logged")
        #expect(attempts.filter { $0.level == .info }.count == 1, "the first of the streak at info, the rest at debug")
        #expect(warnings.map(\.message) == ["circuit breaker opened"], "one warning: the endpoint is unreachable")
    }

    @Test func aCallersLoggerCarriesItsMetadataOntoTheCallsRetries() async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "GetDayProof=1"])
        let clientStore = CapturingLogHandler.Store()
        let callStore = CapturingLogHandler.Store()
        let client = try ConductorClient(configuration: try ConductorConfiguration(baseURL: server.url),
                                         logger: CapturingLogHandler.logger(store: clientStore))
        var callLogger = CapturingLogHandler.logger(store: callStore)
        callLogger[metadataKey: "request-id"] = "req-42"
        _ = try await client.dayProof(3, options: ConductorCallOptions(logger: callLogger))
        await client.shutdown()
        let retry = try #require(callStore.all.first { $0.message == "retrying" })
        #expect(retry.metadata["request-id"] == "req-42")
        #expect(retry.metadata["method"] == "GetDayProof")
        #expect(!clientStore.all.contains { $0.message == "retrying" })
    }
}
