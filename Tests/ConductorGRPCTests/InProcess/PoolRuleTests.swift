import BridgeResilience
@testable import ConductorGRPC
import Testing

/// The pool's rules, each driven by hand over the scripted transport and the manual clock.
@Suite("Pool rules (in process)", .timeLimit(.minutes(1)))
struct PoolRuleTests {
    @Test func aColdConnectionOpensNoStreamBeforeTheServersSettingsAndThenNoMoreThanItsLimit() async throws {
        let harness = try InProcessClient()
        let calls = (0..<10).map { _ in harness.health() }
        let connection = await harness.transport.connections.next()
        await harness.waitForParkedCalls(10)
        #expect(connection.started == 0, "no stream opens while the server's limit is unknown")

        connection.becomeReady(maxConcurrentStreams: 4)
        var answered = 0
        while answered < 10 {
            let exchange = await connection.exchanges.next()
            #expect(connection.open <= 4)
            exchange.succeed(InProcessClient.serving)
            answered += 1
        }
        for call in calls { #expect(try await call.value == .serving) }
        #expect(connection.peakOpen == 4)
        #expect(connection.started == 10)
    }

    @Test func callsGoOnlyToReadyConnectionsWhileAnotherEndpointIsStillConnecting() async throws {
        let harness = try InProcessClient(endpoints: 2)
        let first = harness.health()
        let connecting = await harness.transport.connections.next()
        let ready = await harness.transport.connections.next()
        ready.becomeReady()
        (await ready.exchanges.next()).succeed(InProcessClient.serving)
        _ = try await first.value
        for _ in 0..<20 {
            let call = harness.health()
            (await ready.exchanges.next()).succeed(InProcessClient.serving)
            _ = try await call.value
        }
        #expect(connecting.started == 0, "a connecting connection takes no call while another is ready")
        #expect(ready.started == 21)
    }

    @Test func theLessBusyOfTwoReadyConnectionsTakesTheCall() async throws {
        let harness = try InProcessClient(endpoints: 2)
        var tasks = [harness.health()]
        let a = await harness.transport.connections.next()
        let b = await harness.transport.connections.next()
        await harness.waitForParkedCalls(1)
        a.becomeReady()
        var held = [await a.exchanges.next()]
        b.becomeReady()
        // Power of two choices over two connections compares both: a call never goes to the busier one.
        for _ in 0..<7 {
            tasks.append(harness.health())
            held.append(await nextExchange(on: [a, b]).exchange)
            #expect(abs(a.open - b.open) <= 1, "loads \(a.open)/\(b.open)")
        }
        #expect(a.open == 4 && b.open == 4)
        for exchange in held { exchange.succeed(InProcessClient.serving) }
        for task in tasks { _ = try await task.value }
    }

    @Test func noAdvertisedLimitMeansAtMostOneHundredStreams() async throws {
        let harness = try InProcessClient { $0.maxConnectionsPerEndpoint = 1 }
        let calls = (0..<150).map { _ in harness.health() }
        let connection = await harness.transport.connections.next()
        await harness.waitForParkedCalls(150)
        connection.becomeReady(maxConcurrentStreams: UInt32.max)
        var held: [ScriptedExchange] = []
        for _ in 0..<100 { held.append(await connection.exchanges.next()) }
        await harness.waitForParkedCalls(50)
        #expect(connection.open == 100)
        for exchange in held { exchange.succeed(InProcessClient.serving) }
        for _ in 0..<50 { (await connection.exchanges.next()).succeed(InProcessClient.serving) }
        for call in calls { _ = try await call.value }
        #expect(connection.peakOpen == 100)
    }

    @Test func whenEveryConnectionIsFullAndCallsWaitAnotherConnectionOpensUpToTheBound() async throws {
        let harness = try InProcessClient { $0.maxConnectionsPerEndpoint = 2 }
        let calls = (0..<5).map { _ in harness.health() }
        let first = await harness.transport.connections.next()
        await harness.waitForParkedCalls(5)
        first.becomeReady(maxConcurrentStreams: 2)
        let second = await harness.transport.connections.next()
        second.becomeReady(maxConcurrentStreams: 2)
        var held: [ScriptedExchange] = []
        for _ in 0..<2 { held.append(await first.exchanges.next()) }
        for _ in 0..<2 { held.append(await second.exchanges.next()) }
        await harness.waitForParkedCalls(1)
        #expect(harness.transport.allConnections.count == 2, "no third connection beyond CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT")
        for exchange in held { exchange.succeed(InProcessClient.serving) }
        let last = await nextExchange(on: [first, second]).exchange
        last.succeed(InProcessClient.serving)
        for call in calls { _ = try await call.value }
    }

    @Test func aRefusedStreamWaitsForAnotherToCloseAndUsesNoneOfTheCallsAttempts() async throws {
        let harness = try InProcessClient { $0.maxRetries = 0 }
        let calls = (0..<4).map { _ in harness.health() }
        let connection = await harness.transport.connections.next()
        await harness.waitForParkedCalls(4)
        connection.becomeReady(maxConcurrentStreams: 4)
        var held: [ScriptedExchange] = []
        for _ in 0..<4 { held.append(await connection.exchanges.next()) }
        held[0].refuse()
        await harness.waitForParkedCalls(1)
        #expect(connection.started == 4, "the refused call is not sent again at once")
        #expect(harness.client.statistics.endpoints[0].channels[0].usableStreamLimit == 3,
                "the usable limit drops to the streams still open")
        #expect(harness.client.statistics.endpoints[0].channels[0].maxConcurrentStreams == 4, "the server's own stays")
        held[1].succeed(InProcessClient.serving)
        let resent = await connection.exchanges.next()
        #expect(connection.started == 5)
        resent.succeed(InProcessClient.serving)
        held[2].succeed(InProcessClient.serving)
        held[3].succeed(InProcessClient.serving)
        for call in calls { #expect(try await call.value == .serving, "maxRetries = 0, yet the refused call succeeds") }
    }

    @Test func refusalsOfACallThatIsAloneOnItsConnectionAreBoundedTransparentRetries() async throws {
        let harness = try InProcessClient { $0.maxRetries = 0 }
        let call = harness.health()
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        for _ in 0...RetryPolicy.maxTransparentRetries { (await connection.exchanges.next()).refuse() }
        let error = try #require(await callError(call))
        #expect(error.code == .unavailable)
        #expect(error.attempts == RetryPolicy.maxTransparentRetries + 1, "\(error)")
    }

    @Test func anUnreachableEndpointOpensItsBreakerAndTheFirstReadyConnectionClosesIt() async throws {
        let harness = try InProcessClient { $0.circuitBreakerThreshold = 2 }
        let first = harness.health()
        (await harness.transport.connections.next()).close(reason: "connection refused")
        let firstError = try #require(await callError(first))
        #expect(firstError.kind == .connectionFailed)
        #expect(harness.client.circuitBreakerState == .closed, "one failed attempt is below the threshold")

        harness.clock.advance(by: .seconds(2)) // past the first reconnect backoff (1 s ± 20 %)
        let second = harness.health()
        (await harness.transport.connections.next()).close(reason: "connection refused")
        _ = await callError(second)
        #expect(harness.client.circuitBreakerState == .open, "two failed connection attempts in a row: unreachable")
        let rejected = harness.health()
        #expect(await callError(rejected)?.code == .unavailable)
        #expect(harness.transport.allConnections.count == 2, "no call opens a connection while the breaker is open")

        // The pool keeps reconnecting on its backoff by itself, and a ready connection closes the breaker.
        await harness.clock.waitForClientSleep()
        harness.clock.advance(by: .seconds(3))
        let third = await harness.transport.connections.next()
        third.becomeReady()
        #expect(harness.client.circuitBreakerState == .closed)
        let recovered = harness.health()
        (await third.exchanges.next()).succeed(InProcessClient.serving)
        #expect(try await recovered.value == .serving)
    }

    @Test func theReconnectBackoffStartsOverOnceTheServersSettingsArrive() async throws {
        let harness = try InProcessClient { $0.circuitBreakerThreshold = 50 }
        for _ in 0..<3 { // three failures: the next wait would be 2.56 s ± 20 %
            let call = harness.health()
            (await harness.transport.connections.next()).close(reason: "connection refused")
            _ = await callError(call)
            harness.clock.advance(by: .seconds(4))
        }
        let call = harness.health()
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        (await connection.exchanges.next()).succeed(InProcessClient.serving)
        _ = try await call.value
        connection.close(reason: "connection reset", orderly: false)
        let afterLoss = harness.health()
        let replacement = await harness.transport.connections.next()
        replacement.close(reason: "connection refused")
        _ = await callError(afterLoss)
        harness.clock.advance(by: .milliseconds(1_210)) // beyond 1 s + 20 %, well below 2.56 s − 20 %
        let retry = harness.health()
        let again = await harness.transport.connections.next()
        #expect(again !== replacement, "a new attempt after the first backoff: the count started over")
        again.becomeReady()
        (await again.exchanges.next()).succeed(InProcessClient.serving)
        _ = try await retry.value
    }

    @Test func afterGOAWAYNewCallsOpenANewConnectionAndRefusedStreamsAreRetriedThereEvenForWrites() async throws {
        let harness = try InProcessClient { $0.submitsAreDeduplicated = false; $0.maxRetries = 0 }
        let inFlight = harness.submit()
        let old = await harness.transport.connections.next()
        old.becomeReady()
        let above = await old.exchanges.next()
        old.goaway(lastStreamID: 0)
        above.refuse() // above the GOAWAY's last-stream-id: never processed
        let fresh = await harness.transport.connections.next()
        fresh.becomeReady()
        let retried = await fresh.exchanges.next()
        #expect(retried.header("grpc-previous-rpc-attempts") == "1")
        retried.succeed(InProcessClient.receipt)
        #expect(try await inFlight.value.eventHash == "a", "a non-idempotent write that was never processed is sent again")
        #expect(old.started == 1)
    }

    @Test func waitingForAConnectionEndsAtTheCallsDeadline() async throws {
        let harness = try InProcessClient { $0.timeout = .seconds(3) }
        let call = harness.health()
        _ = await harness.transport.connections.next() // never becomes ready
        await harness.waitForParkedCalls(1)
        await harness.clock.waitForClientSleep()
        harness.clock.advance(by: .seconds(3))
        let error = try #require(await callError(call))
        #expect(error.kind == .deadlineExceeded)
        #expect(error.message.contains("a connection to become ready"), "\(error.message)")
    }

    @Test func aFullQueueFailsTheNextCallAtOnceAsSaturated() async throws {
        let harness = try InProcessClient { $0.maxPendingCalls = 2; $0.maxConnectionsPerEndpoint = 1 }
        let waiting = (0..<2).map { _ in harness.health() }
        let connection = await harness.transport.connections.next()
        await harness.waitForParkedCalls(2)
        let error = try #require(await callError(harness.health()))
        #expect(error.kind == .poolSaturated)
        #expect(error.message.contains("CONDUCTOR_MAX_PENDING_CALLS=2"))
        connection.becomeReady()
        for _ in 0..<2 { (await connection.exchanges.next()).succeed(InProcessClient.serving) }
        for call in waiting { _ = try await call.value }
    }

    @Test func aGOAWAYForTooManyPingsDoublesTheKeepaliveIntervalOfLaterConnections() async throws {
        let harness = try InProcessClient { $0.keepaliveInterval = .seconds(30) }
        let call = harness.health()
        let first = await harness.transport.connections.next()
        #expect(first.settings.keepaliveInterval == .seconds(30))
        first.becomeReady()
        (await first.exchanges.next()).succeed(InProcessClient.serving)
        _ = try await call.value
        first.goaway(detail: "ENHANCE_YOUR_CALM: too_many_pings")
        let next = harness.health()
        let second = await harness.transport.connections.next()
        #expect(second.settings.keepaliveInterval == .seconds(60), "gRPC A8: double the interval after too_many_pings")
        second.becomeReady()
        (await second.exchanges.next()).succeed(InProcessClient.serving)
        _ = try await next.value
    }
}
