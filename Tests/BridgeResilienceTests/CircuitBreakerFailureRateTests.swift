import BridgeResilience
import Testing

@Suite("Circuit breaker failure-rate rule")
struct CircuitBreakerFailureRateTests {
    let clock = ManualResilienceClock()

    func makeBreaker(threshold: Double, windowSize: Int, minimumCalls: Int) -> (CircuitBreaker, Recorder<CircuitBreakerTransition>) {
        let transitions = Recorder<CircuitBreakerTransition>()
        let breaker = CircuitBreaker(
            configuration: CircuitBreakerConfiguration(
                failureThreshold: 50,
                failureRate: CircuitBreakerConfiguration.FailureRate(
                    threshold: threshold, windowSize: windowSize, minimumCalls: minimumCalls
                )
            ),
            clock: clock
        ) { transitions.append($0) }
        return (breaker, transitions)
    }

    /// Records outcomes ("S" success, "F" failure, "I" ignored) and returns the state after each.
    func play(_ outcomes: String, on breaker: CircuitBreaker) throws -> [CircuitBreakerState] {
        try outcomes.map { symbol in
            let permit = try #require(breaker.tryAcquire().permit)
            switch symbol {
            case "S": breaker.record(.success, for: permit)
            case "F": breaker.record(.failure, for: permit)
            default: breaker.record(.ignored, for: permit)
            }
            return breaker.state
        }
    }

    @Test("the rule waits for the minimum number of calls")
    func minimumCalls() throws {
        let (breaker, transitions) = makeBreaker(threshold: 0.5, windowSize: 10, minimumCalls: 5)
        let states = try play("FSFF", on: breaker)
        #expect(states == [.closed, .closed, .closed, .closed], "75 % failures, but only 4 calls")
        #expect(try play("S", on: breaker) == [.open], "3 of 5 = 60 % ≥ 50 %")
        #expect(transitions.elements.map(\.reason) == [.failureRate])
    }

    @Test("a success can complete the minimum and trip the rule")
    func successCompletesMinimum() throws {
        let (breaker, _) = makeBreaker(threshold: 0.5, windowSize: 4, minimumCalls: 4)
        #expect(try play("FFFS", on: breaker) == [.closed, .closed, .closed, .open])
    }

    @Test("the window slides: only the last N outcomes count")
    func slidingWindow() throws {
        let (breaker, _) = makeBreaker(threshold: 0.75, windowSize: 4, minimumCalls: 4)
        let states = try play("SSSSFFF", on: breaker)
        #expect(states == [.closed, .closed, .closed, .closed, .closed, .closed, .open])
    }

    @Test("ignored outcomes are not part of the window")
    func ignoredOutcomesAreExcluded() throws {
        let (breaker, _) = makeBreaker(threshold: 0.5, windowSize: 4, minimumCalls: 4)
        #expect(try play("FIIIIF", on: breaker).allSatisfy { $0 == .closed })
        #expect(try play("S", on: breaker) == [.closed], "3 outcomes held, below the minimum")
        #expect(try play("S", on: breaker) == [.open], "F F S S: 50 %")
    }

    @Test("the window is emptied when the breaker closes again")
    func windowResetsOnClose() throws {
        let (breaker, _) = makeBreaker(threshold: 0.5, windowSize: 4, minimumCalls: 2)
        #expect(try play("FF", on: breaker) == [.closed, .open])
        clock.advance(by: .seconds(60))
        let probe = try #require(breaker.tryAcquire().permit)
        breaker.record(.success, for: probe)
        #expect(try play("F", on: breaker) == [.closed], "the old failures are forgotten")
        #expect(try play("S", on: breaker) == [.open])
    }
}
