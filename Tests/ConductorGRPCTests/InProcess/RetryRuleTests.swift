import GRPCWire
import BridgeResilience
@testable import ConductorGRPC
import Testing

/// The retry contract and the breaker, each driven by hand over the scripted transport and the
/// manual clock.
@Suite("Retry rules (in process)", .timeLimit(.minutes(1)))
struct RetryRuleTests {
    /// A client whose endpoints are all ready.
    private func readyClient(endpoints: Int = 1, configure: (inout ConductorConfiguration) -> Void = { _ in })
        async throws -> (InProcessClient, [ScriptedConnection]) {
        let harness = try InProcessClient(endpoints: endpoints, configure: configure)
        let warmUp = harness.health()
        var connections: [ScriptedConnection] = []
        for _ in 0..<endpoints { connections.append(await harness.transport.connections.next()) }
        for connection in connections { connection.becomeReady() }
        (await nextExchange(on: connections).exchange).succeed(InProcessClient.serving)
        _ = try await warmUp.value
        return (harness, connections)
    }

    @Test func aRetryGoesToAnotherEndpointAfterTheBackoffWithARecomputedTimeout() async throws {
        let (harness, connections) = try await readyClient(endpoints: 2)
        let call = harness.health()
        let (firstConnection, first) = await nextExchange(on: connections)
        first.fail(.unavailable)
        harness.clock.advance(to: await harness.clock.nextClientSleep(within: .seconds(1)))
        let (secondConnection, second) = await nextExchange(on: connections)
        #expect(secondConnection !== firstConnection, "the retry avoids the endpoint that failed")
        #expect(second.header("grpc-previous-rpc-attempts") == "1")
        let firstTimeout = try #require(grpcTimeoutNanoseconds(first.header("grpc-timeout")))
        let secondTimeout = try #require(grpcTimeoutNanoseconds(second.header("grpc-timeout")))
        #expect(secondTimeout < firstTimeout, "grpc-timeout is recomputed for the retried attempt: \(firstTimeout) then \(secondTimeout)")
        second.succeed(InProcessClient.serving)
        #expect(try await call.value == .serving)
    }

    @Test func theBackoffIsFullJitterBelowTheCeiling() async throws {
        let (harness, connections) = try await readyClient { $0.retryDelay = .seconds(2) }
        let call = harness.health()
        let start = harness.clock.now()
        (await connections[0].exchanges.next()).fail(.unavailable)
        let wake = await harness.clock.nextClientSleep(within: .seconds(5))
        #expect(start.duration(to: wake) <= .seconds(2), "the first retry waits uniformly in 0...CONDUCTOR_RETRY_DELAY")
        harness.clock.advance(to: wake)
        (await connections[0].exchanges.next()).succeed(InProcessClient.serving)
        _ = try await call.value
    }

    @Test func serverPushbackSetsTheExactDelayAndANegativeOneStops() async throws {
        let (harness, connections) = try await readyClient()
        let call = harness.health()
        let start = harness.clock.now()
        (await connections[0].exchanges.next()).fail(.unavailable, pushback: "250")
        #expect(await harness.clock.nextClientSleep(within: .seconds(1)) == start + .milliseconds(250))
        harness.clock.advance(by: .milliseconds(250))
        (await connections[0].exchanges.next()).fail(.unavailable, pushback: "-1")
        let error = try #require(await callError(call))
        #expect(error.attempts == 2, "grpc-retry-pushback-ms -1 means: do not retry")
    }

    @Test func aCallTheServerCommittedToIsNotRetried() async throws {
        let (harness, connections) = try await readyClient { $0.maxRetries = 3 }
        let call = harness.health()
        (await connections[0].exchanges.next()).failAfterHeaders(.unavailable)
        let error = try #require(await callError(call))
        #expect(error.code == .unavailable)
        #expect(error.attempts == 1, "response headers arrived before the status: committed (gRPC A6)")
    }

    @Test func aTrailersOnlyUnavailableIsRetriedButNotAfterMaxRetries() async throws {
        let (harness, connections) = try await readyClient { $0.maxRetries = 2 }
        let call = harness.health()
        for attempt in 1...3 {
            (await connections[0].exchanges.next()).fail(.unavailable)
            if attempt < 3 {
                harness.clock.advance(to: await harness.clock.nextClientSleep(within: .seconds(2)))
            }
        }
        let error = try #require(await callError(call))
        #expect(error.attempts == 3)
    }

    @Test func writesAreNotRetriedAfterAnAnswerThatMayHaveAppliedThem() async throws {
        let (harness, connections) = try await readyClient { $0.submitsAreDeduplicated = false }
        let call = harness.submit()
        (await connections[0].exchanges.next()).fail(.unavailable)
        let error = try #require(await callError(call))
        #expect(error.attempts == 1)
    }

    @Test func anEmptyBudgetStopsRetries() async throws {
        let (harness, connections) = try await readyClient { $0.retryBudgetMaxTokens = 2 }
        let call = harness.health()
        (await connections[0].exchanges.next()).fail(.unavailable)
        let error = try #require(await callError(call))
        #expect(error.attempts == 1)
        #expect(error.message.contains("retry budget exhausted"), "\(error.message)")
    }

    @Test func theWholeCallDeadlineCoversEveryAttempt() async throws {
        let (harness, connections) = try await readyClient { $0.timeout = .seconds(2); $0.retryDelay = .milliseconds(100) }
        let call = harness.health()
        let start = harness.clock.now()
        (await connections[0].exchanges.next()).fail(.unavailable)
        harness.clock.advance(to: await harness.clock.nextClientSleep(within: .milliseconds(100)))
        let second = await connections[0].exchanges.next()
        let timeout = try #require(grpcTimeoutNanoseconds(second.header("grpc-timeout")))
        let left = harness.clock.now().duration(to: start + .seconds(2))
        #expect(timeout <= left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000 + 1_000,
                "the second attempt's grpc-timeout is what is left of the call's deadline")
        harness.clock.advance(to: start + .seconds(2)) // the attempt's local deadline fires
        let error = try #require(await callError(call))
        #expect(error.kind == .deadlineExceeded)
        #expect(connections[0].started == 3, "warm-up + two attempts; none after the deadline")
    }

    @Test func theBreakerOpensAfterTheThresholdRejectsWithoutANetworkCallThenAdmitsAProbe() async throws {
        let (harness, connections) = try await readyClient {
            $0.maxRetries = 0
            $0.circuitBreakerThreshold = 2
            $0.circuitBreakerTimeout = .seconds(10)
        }
        for _ in 0..<2 {
            let call = harness.health()
            (await connections[0].exchanges.next()).fail(.unavailable)
            _ = await callError(call)
        }
        #expect(harness.client.circuitBreakerState == .open)
        let rejected = try #require(await callError(harness.health()))
        #expect(rejected.kind == .circuitOpen)
        #expect(connections[0].started == 3, "an open breaker sends nothing")
        harness.clock.advance(by: .seconds(10))
        let probe = harness.health()
        (await connections[0].exchanges.next()).succeed(InProcessClient.serving)
        #expect(try await probe.value == .serving)
        #expect(harness.client.circuitBreakerState == .closed)
    }

    @Test func answersThatSayNothingAboutHealthDoNotCountForTheBreaker() async throws {
        let (harness, connections) = try await readyClient { $0.maxRetries = 0; $0.circuitBreakerThreshold = 1 }
        for failure in [{ (e: ScriptedExchange) in e.fail(.notFound) }, { $0.fail(.invalidArgument) },
                        { $0.respond(HTTP2StreamResult(outcome: .reset(errorCode: 0xB))) }] {
            let call = harness.health()
            failure(await connections[0].exchanges.next())
            _ = await callError(call)
        }
        #expect(harness.client.circuitBreakerState == .closed,
                "NOT_FOUND, INVALID_ARGUMENT and ENHANCE_YOUR_CALM before headers leave the breaker closed")
    }

    @Test func cancellingTheCallerResetsTheStreamAndReportsCancelled() async throws {
        let (harness, connections) = try await readyClient()
        let call = harness.health()
        _ = await connections[0].exchanges.next()
        call.cancel()
        let error = try #require(await callError(call))
        #expect(error.kind == .cancelled)
        #expect(connections[0].open == 0)
    }
}
