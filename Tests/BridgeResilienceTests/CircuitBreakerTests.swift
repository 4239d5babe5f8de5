@testable import BridgeResilience
import Testing

@Suite("Circuit breaker state machine")
struct CircuitBreakerTests {
    let clock = ManualResilienceClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
    let transitions = Recorder<CircuitBreakerTransition>()

    func makeBreaker(_ configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration()) -> CircuitBreaker {
        CircuitBreaker(configuration: configuration, clock: clock) { [transitions] in transitions.append($0) }
    }

    /// Records `count` failures, each with its own permit.
    func fail(_ breaker: CircuitBreaker, times count: Int) throws {
        for _ in 0..<count {
            let permit = try #require(breaker.tryAcquire().permit)
            breaker.record(.failure, for: permit)
        }
    }

    /// Opens a closed breaker with the default threshold of 5.
    func open(_ breaker: CircuitBreaker) throws {
        try fail(breaker, times: 5)
        #expect(breaker.state == .open)
    }

    @Test("the defaults match the design")
    func defaults() {
        let configuration = CircuitBreakerConfiguration()
        #expect(configuration.failureThreshold == 5)
        #expect(configuration.openDuration == .seconds(60))
        #expect(configuration.maxOpenDurationMultiplier == 10)
        #expect(configuration.halfOpenProbeLimit == 1)
        #expect(configuration.failureRate == nil)
    }

    @Test("closed → open after exactly the threshold of consecutive failures")
    func opensAtThreshold() throws {
        let breaker = makeBreaker()
        let start = clock.now()
        try fail(breaker, times: 4)
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.consecutiveFailures == 4)
        #expect(transitions.elements.isEmpty)

        try fail(breaker, times: 1)
        #expect(breaker.snapshot == CircuitBreakerSnapshot(
            state: .open, consecutiveFailures: 5, openUntil: start + .seconds(60), isIsolated: false, probesInFlight: 0
        ))
        #expect(transitions.elements == [
            CircuitBreakerTransition(from: .closed, to: .open, at: start, reason: .consecutiveFailures),
        ])
    }

    @Test("a success resets the consecutive-failure count")
    func successResetsCount() throws {
        let breaker = makeBreaker()
        try fail(breaker, times: 4)
        let permit = try #require(breaker.tryAcquire().permit)
        #expect(!permit.isProbe)
        breaker.record(.success, for: permit)
        #expect(breaker.snapshot.consecutiveFailures == 0)
        try fail(breaker, times: 4)
        #expect(breaker.state == .closed)
        try fail(breaker, times: 1)
        #expect(breaker.state == .open)
    }

    @Test("ignored outcomes neither count as failures nor reset the count")
    func ignoredWhileClosed() throws {
        let breaker = makeBreaker()
        try fail(breaker, times: 4)
        for _ in 0..<10 {
            let permit = try #require(breaker.tryAcquire().permit)
            breaker.record(.ignored, for: permit)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.consecutiveFailures == 4)
        try fail(breaker, times: 1)
        #expect(breaker.state == .open)
    }

    @Test("open rejects until the open duration has elapsed, then admits one probe (lazily)")
    func openToHalfOpen() throws {
        let breaker = makeBreaker()
        let openedAt = clock.now()
        try open(breaker)

        #expect(breaker.tryAcquire() == .rejected(retryAt: openedAt + .seconds(60)))
        clock.advance(by: .seconds(60) - .nanoseconds(1))
        #expect(breaker.tryAcquire() == .rejected(retryAt: openedAt + .seconds(60)))
        clock.advance(by: .nanoseconds(1))
        #expect(breaker.state == .open, "no timer: the state changes at the next tryAcquire")

        let probe = try #require(breaker.tryAcquire().permit)
        #expect(probe.isProbe)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.snapshot.probesInFlight == 1)
        #expect(breaker.snapshot.openUntil == nil)
        #expect(breaker.tryAcquire() == .rejected(retryAt: nil), "the single probe slot is taken")
        #expect(transitions.elements.last == CircuitBreakerTransition(
            from: .open, to: .halfOpen, at: openedAt + .seconds(60), reason: .openDurationElapsed
        ))
    }

    @Test("a successful probe closes the breaker and clears the failure count")
    func probeSuccessCloses() throws {
        let breaker = makeBreaker()
        try open(breaker)
        clock.advance(by: .seconds(60))
        let probe = try #require(breaker.tryAcquire().permit)
        breaker.record(.success, for: probe)
        #expect(breaker.snapshot == CircuitBreakerSnapshot(
            state: .closed, consecutiveFailures: 0, openUntil: nil, isIsolated: false, probesInFlight: 0
        ))
        #expect(transitions.elements.map(\.reason) == [.consecutiveFailures, .openDurationElapsed, .probeSucceeded])
        #expect(transitions.elements.last?.to == .closed)
        let next = try #require(breaker.tryAcquire().permit)
        #expect(!next.isProbe)
    }

    @Test("a failed probe re-opens for twice as long, capped at 10× the base, and closing resets it")
    func openDurationGrowth() throws {
        let breaker = makeBreaker()
        try open(breaker)
        var openDuration = Duration.seconds(60)
        var observed: [Duration] = []
        for _ in 0..<7 {
            let openUntil = try #require(breaker.snapshot.openUntil)
            observed.append(openUntil - clock.now())
            clock.advance(by: openDuration)
            let probe = try #require(breaker.tryAcquire().permit)
            breaker.record(.failure, for: probe)
            #expect(breaker.state == .open)
            #expect(transitions.elements.last?.reason == .probeFailed)
            openDuration = min(openDuration * 2, .seconds(600))
        }
        #expect(observed == [60, 120, 240, 480, 600, 600, 600].map { Duration.seconds($0) })

        clock.advance(by: .seconds(600))
        let probe = try #require(breaker.tryAcquire().permit)
        breaker.record(.success, for: probe)
        try open(breaker)
        #expect(breaker.snapshot.openUntil == clock.now() + .seconds(60))
    }

    @Test("an ignored probe frees its slot without closing or re-opening")
    func ignoredProbeReleasesSlot() throws {
        let breaker = makeBreaker()
        try open(breaker)
        clock.advance(by: .seconds(60))
        let probe = try #require(breaker.tryAcquire().permit)
        #expect(breaker.tryAcquire().permit == nil)
        breaker.record(.ignored, for: probe)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.snapshot.probesInFlight == 0)
        let nextProbe = try #require(breaker.tryAcquire().permit)
        #expect(nextProbe.isProbe)
        breaker.record(.success, for: nextProbe)
        #expect(breaker.state == .closed)
    }

    @Test("outcomes of permits issued before a state change are ignored")
    func stalePermitsAreIgnored() throws {
        let breaker = makeBreaker()
        let slowCall = try #require(breaker.tryAcquire().permit)
        try open(breaker)
        clock.advance(by: .seconds(60))
        let probe = try #require(breaker.tryAcquire().permit)

        breaker.record(.success, for: slowCall)
        #expect(breaker.state == .halfOpen, "a call admitted while closed cannot close a half-open breaker")
        breaker.record(.failure, for: slowCall)
        #expect(breaker.state == .halfOpen)

        breaker.record(.success, for: probe)
        #expect(breaker.state == .closed)
        breaker.record(.failure, for: probe)
        #expect(breaker.snapshot.consecutiveFailures == 0, "a probe reported twice counts once")
    }

    @Test("isolate forces open until reset, whatever the time")
    func isolateAndReset() throws {
        let breaker = makeBreaker()
        let inFlight = try #require(breaker.tryAcquire().permit)
        let isolatedAt = clock.now()
        breaker.isolate()
        #expect(breaker.snapshot == CircuitBreakerSnapshot(
            state: .open, consecutiveFailures: 0, openUntil: nil, isIsolated: true, probesInFlight: 0
        ))
        clock.advance(by: .seconds(3600))
        #expect(breaker.tryAcquire() == .rejected(retryAt: nil))
        breaker.record(.success, for: inFlight)
        #expect(breaker.state == .open)
        breaker.isolate()
        #expect(transitions.elements.count == 1, "isolating twice is one transition")

        breaker.reset()
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.isIsolated == false)
        #expect(breaker.tryAcquire().permit != nil)
        #expect(transitions.elements == [
            CircuitBreakerTransition(from: .closed, to: .open, at: isolatedAt, reason: .isolated),
            CircuitBreakerTransition(from: .open, to: .closed, at: clock.now(), reason: .reset),
        ])
    }

    @Test("isolating an open breaker makes it stay open indefinitely")
    func isolateOpenBreaker() throws {
        let breaker = makeBreaker()
        try open(breaker)
        breaker.isolate()
        #expect(transitions.elements.last == CircuitBreakerTransition(from: .open, to: .open, at: clock.now(), reason: .isolated))
        clock.advance(by: .seconds(60))
        #expect(breaker.tryAcquire() == .rejected(retryAt: nil))
    }

    @Test("reset closes an open breaker and drops the open-duration growth")
    func resetDropsGrowth() throws {
        let breaker = makeBreaker()
        try open(breaker)
        clock.advance(by: .seconds(60))
        let probe = try #require(breaker.tryAcquire().permit)
        breaker.record(.failure, for: probe)
        #expect(breaker.snapshot.openUntil == clock.now() + .seconds(120))

        breaker.reset()
        #expect(transitions.elements.last == CircuitBreakerTransition(from: .open, to: .closed, at: clock.now(), reason: .reset))
        try open(breaker)
        #expect(breaker.snapshot.openUntil == clock.now() + .seconds(60))
    }

    @Test("reset of a closed breaker clears the failure count without a transition")
    func resetClosed() throws {
        let breaker = makeBreaker()
        try fail(breaker, times: 4)
        breaker.reset()
        #expect(breaker.snapshot.consecutiveFailures == 0)
        #expect(transitions.elements.isEmpty)
        try fail(breaker, times: 4)
        #expect(breaker.state == .closed)
    }

    @Test("custom threshold, open duration and multiplier cap")
    func customConfiguration() throws {
        let breaker = makeBreaker(CircuitBreakerConfiguration(
            failureThreshold: 1, openDuration: .seconds(10), maxOpenDurationMultiplier: 3
        ))
        try fail(breaker, times: 1)
        var observed: [Duration] = []
        for _ in 0..<3 {
            let openUntil = try #require(breaker.snapshot.openUntil)
            observed.append(openUntil - clock.now())
            clock.advance(by: openUntil - clock.now())
            let probe = try #require(breaker.tryAcquire().permit)
            breaker.record(.failure, for: probe)
        }
        #expect(observed == [.seconds(10), .seconds(20), .seconds(30)])
    }

    @Test("the transition callback runs outside the lock (it may read the breaker)")
    func callbackOutsideLock() throws {
        let box = Recorder<CircuitBreaker>()
        let observedStates = Recorder<CircuitBreakerState>()
        let breaker = CircuitBreaker(configuration: CircuitBreakerConfiguration(failureThreshold: 1), clock: clock) { _ in
            if let breaker = box.elements.first {
                observedStates.append(breaker.state)
            }
        }
        box.append(breaker)
        try fail(breaker, times: 1)
        #expect(observedStates.elements == [.open])
        box.removeAll()  // breaks the breaker → callback → box → breaker cycle
    }
}
