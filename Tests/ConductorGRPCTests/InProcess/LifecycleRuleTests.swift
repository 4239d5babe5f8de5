import BridgeResilience
@testable import ConductorGRPC
import Testing

/// Shutdown and `run()`, driven by hand over the scripted transport and the manual clock.
@Suite("Lifecycle rules (in process)", .timeLimit(.minutes(1)))
struct LifecycleRuleTests {
    @Test func shutdownRefusesNewCallsLetsTheRunningOnesFinishThenCutsOffTheRestAtTheGracePeriod() async throws {
        let harness = try InProcessClient()
        // One call at a time, so that exchanges[i] is calls[i]'s (tasks start in no fixed order).
        var calls = [harness.health()]
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        var exchanges = [await connection.exchanges.next()]
        for _ in 1..<3 {
            calls.append(harness.health())
            exchanges.append(await connection.exchanges.next())
        }

        let graceEnds = harness.clock.now() + .seconds(5)
        let shutdown = Task { await harness.client.shutdown(gracePeriod: .seconds(5)) }
        await harness.clock.waitForClientSleep { $0 == graceEnds } // the grace period runs
        let late = await callError(harness.health())
        #expect(late?.kind == .shutDown)
        #expect(late?.attempts == 0)

        exchanges[0].succeed(InProcessClient.serving)
        #expect(try await calls[0].value == .serving, "a call that finishes within the grace period succeeds")
        #expect(!connection.wasAborted)

        harness.clock.advance(by: .seconds(5))
        await shutdown.value
        #expect(connection.wasAborted)
        for call in calls.dropFirst() {
            let error = await callError(call)
            #expect(error?.kind == .shutDown, "\(String(describing: error))")
            #expect(error?.message.hasPrefix("the client shut down before the call finished") == true)
        }
        #expect(harness.clock.clientSleeps.isEmpty)
    }

    @Test func callsThatFinishWithinTheGracePeriodLeaveTheConnectionsToCloseGracefully() async throws {
        let harness = try InProcessClient()
        let call = harness.health()
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        let exchange = await connection.exchanges.next()
        let graceEnds = harness.clock.now() + .seconds(5)
        let shutdown = Task { await harness.client.shutdown(gracePeriod: .seconds(5)) }
        await harness.clock.waitForClientSleep { $0 == graceEnds }
        exchange.succeed(InProcessClient.serving)
        await shutdown.value
        #expect(try await call.value == .serving)
        #expect(connection.wasShutDown && !connection.wasAborted)
        #expect(harness.clock.clientSleeps.isEmpty, "the grace timer ends with the drain")
    }

    @Test func runOwnsTheBackgroundWorkAndEndsWithShutdown() async throws {
        let harness = try InProcessClient { $0.healthCheckInterval = .seconds(30) }
        let firstWake = harness.clock.now() + PoolMaintenance.utilizationInterval
        let running = Task { try await harness.client.run() }
        await harness.clock.waitForClientSleep { $0 == firstWake } // the maintenance loop waits for its first sample
        #expect(harness.clock.clientSleeps.count == 1)

        let second = Task { await harness.client.shutdown(gracePeriod: .seconds(1)) }
        await harness.client.shutdown(gracePeriod: .seconds(1))
        await second.value
        try await running.value
        #expect(harness.clock.clientSleeps.isEmpty, "no background sleeper outlives run()")
        #expect(await callError(harness.health())?.kind == .shutDown)
    }

    @Test func cancellingRunShutsDownWithoutWaitingForTheGracePeriod() async throws {
        let harness = try InProcessClient { $0.healthCheckInterval = .seconds(30) }
        let call = harness.health()
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        _ = await connection.exchanges.next()
        let firstWake = harness.clock.now() + PoolMaintenance.utilizationInterval
        let running = Task { try await harness.client.run() }
        await harness.clock.waitForClientSleep { $0 == firstWake } // run() is under way
        running.cancel()
        try await running.value
        #expect(connection.wasAborted)
        #expect(await callError(call)?.kind == .shutDown)
    }
}
