import BridgeResilience
import ConductorGRPC
import Foundation
import MetricsTestKit
import Testing

/// The durable outbox: what `submitDurably` promises, against the in-memory conductor in process
/// and the reference conductor over the network.
@Suite("Durable outbox", .timeLimit(.minutes(2)))
struct OutboxTests {
    /// A fresh outbox path in its own directory.
    private func outboxPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("outbox.sqlite").path
    }

    private func configuration(_ baseURL: String, outbox path: String, _ adjust: (inout ConductorConfiguration) -> Void = { _ in })
        throws -> ConductorConfiguration {
        var configuration = try ConductorConfiguration(baseURL: baseURL)
        configuration.outboxPath = path
        configuration.retryDelay = .milliseconds(1)
        configuration.retryMaxDelay = .milliseconds(5)
        configuration.circuitBreakerTimeout = .milliseconds(20)
        configuration.reconnectBackoff = ConnectionBackoff(initial: .milliseconds(5), multiplier: 1.6, jitter: 0.2,
                                                           maximum: .milliseconds(50), minimumConnectTimeout: .seconds(1))
        configuration.healthCheckInterval = nil
        adjust(&configuration)
        return configuration
    }

    private static func event(_ index: Int, type: String = "outbox.test") -> ConductorEvent {
        ConductorEvent(eventType: type, epoch: Int32(index), payload: Array("event \(index)".utf8))
    }

    /// Returns once `condition` holds (checked every 10 ms), or records an issue after `limit`.
    private func eventually(_ what: String, within limit: Duration = .seconds(60), _ condition: () -> Bool) async {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while !condition() {
            guard clock.now < end else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: In process

    @Test func eventsAcceptedWhileTheConductorIsDownAreDeliveredInOrderOnceItIsBack() async throws {
        let conductor = InMemoryConductor()
        conductor.refusesConnections = true
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: outboxPath()),
                                         connectingTo: [conductor])
        let running = Task { try await client.run() }
        var sequences: [Int64] = []
        for index in 0..<250 { sequences.append(try await client.submitDurably(Self.event(index))) }
        #expect(sequences == sequences.sorted())
        #expect(client.outbox?.statistics.events == 250)
        conductor.refusesConnections = false
        await eventually("the outbox is empty") { client.outbox?.statistics.events == 0 }
        #expect(conductor.appliedEvents.map(\.event) == (0..<250).map { Self.event($0) }, "all, once each, in acceptance order")
        #expect(client.outbox?.statistics.delivered == 250)
        await client.shutdown()
        try await running.value
    }

    @Test func theOutboxMetricsFollowAcceptanceDeliveryAndDeadLetters() async throws {
        let metrics = TestMetrics()
        let conductor = InMemoryConductor()
        conductor.refusesConnections = true
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: outboxPath()),
                                         connectingTo: [conductor], metricsFactory: metrics)
        for index in 0..<5 { _ = try await client.submitDurably(Self.event(index)) }
        let events = try metrics.expectGauge("bridge_conductor_outbox_events")
        #expect(events.lastValue == 5)
        _ = try metrics.expectGauge("bridge_conductor_outbox_oldest_event_age_seconds")
        conductor.refusesConnections = false
        let running = Task { try await client.run() }
        // The metrics are published after the state changes: wait for them, not for the statistics.
        await eventually("the gauge says empty") { events.lastValue == 0 }
        #expect(try metrics.expectCounter("bridge_conductor_outbox_delivered_total").totalValue == 5)
        await client.shutdown()
        try await running.value
    }

    @Test func largeEventsAreDeliveredInBatchesOfAtMostAMebibyte() async throws {
        let conductor = InMemoryConductor()
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: outboxPath()),
                                         connectingTo: [conductor])
        let events = (0..<5).map { ConductorEvent(eventType: "large", epoch: Int32($0), payload: [UInt8](repeating: UInt8($0), count: 400_000)) }
        for event in events { _ = try await client.submitDurably(event) }
        let running = Task { try await client.run() }
        await eventually("the outbox is empty") { client.outbox?.statistics.events == 0 }
        #expect(conductor.appliedEvents.map(\.event) == events)
        #expect(conductor.callCount(.submitEventsBatch) == 3, "two 400 kB events a batch, not all five in one 2 MB call")
        await client.shutdown()
        try await running.value
    }

    @Test func submitDurablyAndWaitReturnsTheConductorsReceipt() async throws {
        let conductor = InMemoryConductor()
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: outboxPath()),
                                         connectingTo: [conductor])
        let running = Task { try await client.run() }
        let receipt = try await client.submitDurablyAndWait(Self.event(7))
        #expect(receipt.eventHash == InMemoryConductor.eventHash(of: Self.event(7)))
        await client.shutdown()
        try await running.value
    }

    @Test func aCallerWaitingForItsReceiptLearnsAtShutdownThatTheEventStaysQueued() async throws {
        let path = try outboxPath()
        let conductor = InMemoryConductor()
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [conductor])
        let waiter = Task { () async -> ConductorError? in
            await conductorError { () async throws(ConductorError) in _ = try await client.submitDurablyAndWait(Self.event(1)) }
        }
        await eventually("the event is accepted") { client.outbox?.statistics.events == 1 }
        await client.shutdown(gracePeriod: .zero) // never run: nothing delivered it
        let error = await waiter.value
        #expect(error?.kind == .shutDown)
        #expect(error?.message.contains("stays in the outbox") == true, "\(String(describing: error))")
        let (statistics, _) = try await ConductorOutbox.inspect(path: path)
        #expect(statistics.events == 1, "the event is still on disk")
    }

    @Test func eventsAcceptedByOneProcessAreDeliveredByTheNext() async throws {
        let path = try outboxPath()
        let conductor = InMemoryConductor()
        let first = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [conductor])
        for index in 0..<30 { _ = try await first.submitDurably(Self.event(index)) }
        await first.shutdown() // never run: nothing delivered
        #expect(conductor.appliedEvents.isEmpty)

        let second = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [conductor])
        #expect(second.outbox?.statistics.events == 30)
        let running = Task { try await second.run() }
        await eventually("the outbox is empty") { second.outbox?.statistics.events == 0 }
        #expect(conductor.appliedEvents.map(\.event) == (0..<30).map { Self.event($0) })
        await second.shutdown()
        try await running.value
    }

    @Test func aFullOutboxFailsTheNextDurableSubmitAtOnce() async throws {
        let client = try ConductorClient(
            configuration: configuration("grpc://conductor:1", outbox: outboxPath()) { $0.outboxMaxEvents = 3 },
            connectingTo: [InMemoryConductor()])
        for index in 0..<3 { _ = try await client.submitDurably(Self.event(index)) }
        let error = await conductorError { () async throws(ConductorError) in _ = try await client.submitDurably(Self.event(3)) }
        #expect(error?.kind == .outboxFull)
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message.contains("CONDUCTOR_OUTBOX_MAX_EVENTS=3") == true, "\(String(describing: error))")
        #expect(client.outbox?.statistics.events == 3)
        await client.shutdown()
    }

    @Test func aCorruptOrUnwritableOutboxIsAConfigurationErrorAtStartUp() throws {
        let corrupt = try outboxPath()
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: corrupt))
        for path in [corrupt, "/proc/no-such-directory/outbox.sqlite"] {
            let error = #expect(throws: ConductorError.self) {
                _ = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [InMemoryConductor()])
            }
            #expect(error?.kind == .invalidConfiguration)
            #expect(error?.message.hasPrefix("CONDUCTOR_OUTBOX_PATH=\(path) cannot be used as an outbox") == true,
                    "\(String(describing: error))")
        }
    }

    @Test func oneOutboxBelongsToOneProcess() throws {
        let path = try outboxPath()
        let first = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [InMemoryConductor()])
        let error = #expect(throws: ConductorError.self) {
            _ = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [InMemoryConductor()])
        }
        #expect(error?.kind == .invalidConfiguration)
        _ = first
    }

    @Test func withoutAnOutboxADurableSubmitIsAConfigurationError() async throws {
        let client = try ConductorClient(configuration: ConductorConfiguration(baseURL: "grpc://conductor:1"), connectingTo: [InMemoryConductor()])
        let error = await conductorError { () async throws(ConductorError) in _ = try await client.submitDurably(Self.event(1)) }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("CONDUCTOR_OUTBOX_PATH") == true)
    }

    @Test func theSmokeBinaryReportsTheOutboxBesideTheProcessThatHoldsIt() async throws {
        let path = try outboxPath()
        let client = try ConductorClient(configuration: configuration("grpc://conductor:1", outbox: path), connectingTo: [InMemoryConductor()])
        for index in 0..<3 { _ = try await client.submitDurably(Self.event(index)) }
        let output = try await SmokeBinary.run(["--outbox"], environment: ["CONDUCTOR_BASE_URL": "grpc://conductor:1", "CONDUCTOR_OUTBOX_PATH": path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("outbox \(path): 3 events waiting ("), "\(output.stdout)")
        #expect(output.stdout.contains("; 0 dead letters"))
        let json = try await SmokeBinary.run(["--outbox", "--json"],
                                             environment: ["CONDUCTOR_BASE_URL": "grpc://conductor:1", "CONDUCTOR_OUTBOX_PATH": path])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["outbox"] as? [String: Any])?["events"] as? Int == 3)
        await client.shutdown()
    }

    // MARK: Against the reference conductor

    @Test func tenThousandEventsAcceptedWhileEveryConductorIsDownAllArriveInOrder() async throws {
        let port = try unusedPort()
        let client = try ConductorClient(configuration: configuration("grpc://127.0.0.1:\(port)", outbox: outboxPath()))
        let running = Task { try await client.run() }
        var accepted: [(sequence: Int64, index: Int)] = [] // concurrent submits: acceptance order is the sequence's
        for wave in stride(from: 0, to: 10_000, by: 500) {
            try await withThrowingTaskGroup(of: (Int64, Int).self) { group in
                for index in wave..<wave + 500 { group.addTask { (try await client.submitDurably(Self.event(index)), index) } }
                for try await pair in group { accepted.append(pair) }
            }
        }
        #expect(client.outbox?.statistics.events == 10_000)
        let server = try await ReferenceConductor.start(port: port)
        defer { server.stop() }
        await eventually("the outbox is empty") { client.outbox?.statistics.events == 0 }
        await client.shutdown()
        try await running.value

        let applied = server.log().filter { $0.outcome == "ok" }.flatMap(\.eventHashes)
        let expected = accepted.sorted { $0.sequence < $1.sequence }.map { InMemoryConductor.eventHash(of: Self.event($0.index)) }
        #expect(applied.count == expected.count, "every event once (\(applied.count) applied, \(Set(applied).count) distinct)")
        let firstDifference = zip(applied, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "in acceptance order (the first difference is at \(firstDifference ?? -1))")
    }

    @Test func aPoisonEventIsDeadLetteredAndTheEventsAfterItAreDelivered() async throws {
        let server = try await ReferenceConductor.start(["--reject-event-type", "poison"])
        defer { server.stop() }
        let client = try ConductorClient(configuration: configuration(server.url, outbox: outboxPath()))
        let events = (0..<10).map { Self.event($0, type: $0 == 4 ? "poison" : "outbox.test") }
        for event in events { _ = try await client.submitDurably(event) }
        let running = Task { try await client.run() }
        await eventually("the outbox is empty") { client.outbox?.statistics.events == 0 }

        let deadLetters = try await client.outbox?.deadLetters() ?? []
        #expect(deadLetters.map(\.event) == [events[4]])
        #expect(deadLetters.first?.code == .invalidArgument)
        #expect(deadLetters.first?.message.contains("event type poison is rejected") == true)
        #expect(client.outbox?.statistics.deadLetters == 1)
        let applied = server.log().filter { $0.outcome == "ok" }.flatMap(\.eventHashes)
        #expect(applied == events.filter { $0.eventType != "poison" }.map { InMemoryConductor.eventHash(of: $0) })
        await client.shutdown()
        try await running.value
    }
}
