import ConductorGRPC
import Testing

/// How a user tests a service's resilience settings: the real ``ConductorClient`` against
/// ``InMemoryConductor``s with injected faults, through the public API only — no network, no
/// sleeps in the test (a hang ends at the call's deadline).
@Suite("Resilience against the in-memory conductor (in process)", .timeLimit(.minutes(1)))
struct InProcessResilienceTests {
    /// Settings as a test would choose them: production rules, short waits.
    private func configuration(endpoints: Int = 1, _ adjust: (inout ConductorConfiguration) -> Void = { _ in }) throws -> ConductorConfiguration {
        var configuration = try ConductorConfiguration(baseURL: (1...endpoints).map { "grpc://conductor-\($0):50051" }.joined(separator: ","))
        configuration.retryDelay = .milliseconds(1)
        configuration.retryMaxDelay = .milliseconds(2)
        configuration.healthCheckInterval = nil
        adjust(&configuration)
        return configuration
    }

    @Test func aFailedAttemptIsRetriedAndTheCallerSeesOnlyTheAnswer() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.fail(.unavailable), into: .getDayProof, when: .next(1))
        let client = try ConductorClient(configuration: configuration(), connectingTo: [conductor])
        let response = try await client.response(to: .dayProof(42))
        #expect(response.message.proof == "proof-of-day-42")
        #expect(response.attempts == 2)
        #expect(response.initialMetadata["x-served-by"] == ["in-memory"])
        #expect(conductor.callCount(.getDayProof) == 2)
        await client.shutdown()
    }

    @Test func aHangingConductorEndsTheCallAtItsDeadlineWithNothingApplied() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.hang, into: .submitEvent)
        let client = try ConductorClient(configuration: configuration(), connectingTo: [conductor])
        let error = await conductorError { () async throws(ConductorError) in
            _ = try await client.submit(ConductorEvent(eventType: "order.placed", epoch: 1),
                                        options: ConductorCallOptions(timeout: .milliseconds(50)))
        }
        #expect(error?.kind == .deadlineExceeded)
        #expect(conductor.appliedEvents.isEmpty)
        await client.shutdown()
    }

    @Test func consecutiveFailuresOpenTheBreakerAndLaterCallsNeverReachTheConductor() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.fail(.unavailable), into: .healthCheck)
        let client = try ConductorClient(configuration: configuration { $0.maxRetries = 0; $0.circuitBreakerThreshold = 3 },
                                         connectingTo: [conductor])
        for _ in 0..<3 {
            let error = await conductorError { () async throws(ConductorError) in _ = try await client.health() }
            #expect(error?.code == .unavailable)
        }
        let blocked = await conductorError { () async throws(ConductorError) in _ = try await client.health() }
        #expect(blocked?.kind == .circuitOpen)
        #expect(conductor.callCount(.healthCheck) == 3, "the open breaker answered the fourth call")
        #expect(client.statistics.endpoints[0].breakerState == .open)
        await client.shutdown()
    }

    @Test func aFailurePatternFailsExactlyThePickedCalls() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.fail(.resourceExhausted, message: "slow down"), into: .healthCheck, when: .every(3))
        let client = try ConductorClient(configuration: configuration { $0.maxRetries = 0; $0.circuitBreakerThreshold = 20 },
                                         connectingTo: [conductor])
        var failed: [Int] = []
        for call in 1...9 {
            let error = await conductorError { () async throws(ConductorError) in _ = try await client.health() }
            if let error {
                #expect(error.message == "slow down")
                failed.append(call)
            }
        }
        #expect(failed == [3, 6, 9])
        await client.shutdown()
    }

    @Test func aLostReplyIsRetriedWhenSubmitsAreDeduplicatedSoTheEventArrivesTwice() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.loseReply, into: .submitEvent, when: .next(1))
        let client = try ConductorClient(configuration: configuration(), connectingTo: [conductor])
        let event = ConductorEvent(eventType: "order.placed", epoch: 3, payload: [1, 2])
        let receipt = try await client.submit(event)
        #expect(receipt.eventHash == InMemoryConductor.eventHash(of: event))
        #expect(conductor.appliedEvents.map(\.receipt) == [receipt, receipt], "at least once: the conductor deduplicates by hash")
        await client.shutdown()
    }

    @Test func aLostReplyIsNotRetriedWhenSubmitsAreNotDeduplicated() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.loseReply, into: .submitEvent, when: .next(1))
        let client = try ConductorClient(configuration: configuration { $0.submitsAreDeduplicated = false }, connectingTo: [conductor])
        let error = await conductorError { () async throws(ConductorError) in
            _ = try await client.submit(ConductorEvent(eventType: "order.placed", epoch: 3))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.attempts == 1)
        #expect(conductor.appliedEvents.count == 1, "the event took effect although the caller saw a failure")
        await client.shutdown()
    }

    @Test func callsFailOverFromAConductorThatRefusesConnections() async throws {
        let down = InMemoryConductor()
        down.refusesConnections = true
        let up = InMemoryConductor()
        let client = try ConductorClient(configuration: configuration(endpoints: 2), connectingTo: [down, up])
        for day: Int32 in 1...5 {
            _ = try await client.dayProof(day)
        }
        #expect(up.callCount(.getDayProof) == 5)
        #expect(down.callCount(.getDayProof) == 0)
        await client.shutdown()
    }

    @Test func shutdownCutsOffAHangingCallAtOnce() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.hang, into: .getDayProof)
        let client = try ConductorClient(configuration: configuration(), connectingTo: [conductor])
        let call = Task { try await client.dayProof(7) }
        while conductor.callCount(.getDayProof) == 0 { await Task.yield() }
        await client.shutdown(gracePeriod: .zero)
        do {
            _ = try await call.value
            Issue.record("the hanging call answered")
        } catch {
            #expect((error as? ConductorError)?.kind == .shutDown)
        }
    }

    @Test func theConductorCalledDirectlyHonoursDelaysAndTheCallsTimeout() async throws {
        let conductor = InMemoryConductor()
        conductor.inject(.delay(.milliseconds(5)), into: .healthCheck, when: .next(1))
        #expect(try await conductor.health() == .serving)
        conductor.inject(.delay(.seconds(60)), into: .healthCheck, when: .next(1))
        let error = await conductorError { () async throws(ConductorError) in
            _ = try await conductor.health(service: "", options: ConductorCallOptions(timeout: .milliseconds(20)))
        }
        #expect(error?.kind == .deadlineExceeded)
        conductor.inject(.fail(.internalError), into: .healthCheck)
        conductor.removeFaults()
        #expect(try await conductor.health() == .serving)
    }

    @Test func aClientNeedsOneConductorPerEndpointOrOneForAll() throws {
        #expect(throws: ConductorError.self) {
            _ = try ConductorClient(configuration: configuration(endpoints: 3), connectingTo: [InMemoryConductor(), InMemoryConductor()])
        }
    }
}
