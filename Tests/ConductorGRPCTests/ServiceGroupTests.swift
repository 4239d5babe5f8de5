import ConductorGRPC
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// The client as a swift-service-lifecycle `Service`, against the reference conductor: graceful
/// shutdown with calls in flight.
@Suite("ServiceGroup", .serialized, .timeLimit(.minutes(1)))
struct ServiceGroupTests {
    private static let reload = ConductorCallOptions(cachePolicy: .reload)

    @Test func gracefulShutdownLetsHundredCallsInFlightFinish() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=0.5"])
        let client = try makeClient(server.url, timeout: .seconds(30)) { $0.shutdownGracePeriod = .seconds(20) }
        let group = ServiceGroup(services: [client], logger: Logger(label: "service-group-test"))
        let running = Task { try await group.run() }
        let calls = (1...100).map { day in Task { try await client.dayProof(Int32(day), options: Self.reload) } }
        try await waitUntil { client.statistics.endpoints.flatMap(\.channels).map(\.outstandingStreams).reduce(0, +) == 100 }

        await group.triggerGracefulShutdown()
        for (index, call) in calls.enumerated() {
            #expect(try await call.value.dayNumber == Int32(index + 1))
        }
        try await running.value
        let late = await conductorError { () async throws(ConductorError) in try await client.dayProof(1, options: Self.reload) }
        #expect(late?.kind == .shutDown)
    }

    @Test func callsThatOutlastTheGracePeriodFailWithShutDownAndNothingHangs() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=30"])
        let client = try makeClient(server.url, timeout: .seconds(60)) { $0.shutdownGracePeriod = .milliseconds(300) }
        let group = ServiceGroup(services: [client], logger: Logger(label: "service-group-test"))
        let running = Task { try await group.run() }
        let calls = (1...100).map { day in Task { try await client.dayProof(Int32(day), options: Self.reload) } }
        try await waitUntil { client.statistics.endpoints.flatMap(\.channels).map(\.outstandingStreams).reduce(0, +) == 100 }

        let clock = ContinuousClock()
        let start = clock.now
        await group.triggerGracefulShutdown()
        for call in calls {
            let error = await callError(call)
            #expect(error?.kind == .shutDown, "\(String(describing: error))")
        }
        try await running.value
        #expect(clock.now - start < .seconds(20), "the calls were cut off, not waited for (30 s)")
    }
}
