/// The circuit breaker's state and rules, as a value type; ``CircuitBreaker`` guards it with a
/// lock, and the Conductor client's pool embeds one per endpoint in its own state machine.
///
/// Every state change increments `generation`. Permits carry the generation they were issued in,
/// and outcomes from an older generation are ignored: a slow call admitted before the breaker
/// opened cannot close a half-open breaker or count against a freshly closed one.
package struct CircuitBreakerStateMachine: Sendable {
    private let configuration: CircuitBreakerConfiguration
    private(set) var state = CircuitBreakerState.closed
    private var generation: UInt64 = 0
    private var consecutiveFailures = 0
    private var openUntil: MonotonicInstant?
    private var isIsolated = false
    private var isUnreachable = false
    private var probesInFlight = 0
    private var openDurationMultiplier = 1
    private var window: OutcomeWindow

    package init(configuration: CircuitBreakerConfiguration) {
        self.configuration = configuration
        window = OutcomeWindow(capacity: configuration.failureRate?.windowSize ?? 0)
    }

    package var snapshot: CircuitBreakerSnapshot {
        CircuitBreakerSnapshot(
            state: state,
            consecutiveFailures: consecutiveFailures,
            openUntil: openUntil,
            isIsolated: isIsolated,
            probesInFlight: probesInFlight
        )
    }

    /// Admits or rejects a call; reads the clock only when the breaker is open.
    package mutating func acquire(clock: any ResilienceClock) -> (CircuitBreakerAdmission, CircuitBreakerTransition?) {
        switch state {
        case .closed:
            return (.admitted(CircuitBreakerPermit(isProbe: false, generation: generation)), nil)
        case .open:
            guard !isIsolated, !isUnreachable, let openUntil else {
                return (.rejected(retryAt: nil), nil)
            }
            let now = clock.now()
            guard now >= openUntil else {
                return (.rejected(retryAt: openUntil), nil)
            }
            let transition = move(to: .halfOpen, at: now, reason: .openDurationElapsed)
            probesInFlight = 1
            return (.admitted(CircuitBreakerPermit(isProbe: true, generation: generation)), transition)
        case .halfOpen:
            guard probesInFlight < configuration.halfOpenProbeLimit else {
                return (.rejected(retryAt: nil), nil)
            }
            probesInFlight += 1
            return (.admitted(CircuitBreakerPermit(isProbe: true, generation: generation)), nil)
        }
    }

    /// Applies the outcome of an admitted call.
    package mutating func record(
        _ outcome: CircuitBreakerOutcome,
        for permit: CircuitBreakerPermit,
        clock: any ResilienceClock
    ) -> CircuitBreakerTransition? {
        guard permit.generation == generation else {
            return nil
        }
        switch (state, outcome) {
        case (_, .ignored):
            if state == .halfOpen {
                probesInFlight -= 1
            }
            return nil
        case (.closed, .success):
            consecutiveFailures = 0
            return appendToWindow(failure: false, clock: clock)
        case (.closed, .failure):
            consecutiveFailures += 1
            if consecutiveFailures >= configuration.failureThreshold {
                return open(at: clock.now(), reason: .consecutiveFailures)
            }
            return appendToWindow(failure: true, clock: clock)
        case (.halfOpen, .success):
            return close(at: clock.now(), reason: .probeSucceeded)
        case (.halfOpen, .failure):
            consecutiveFailures += 1
            openDurationMultiplier = min(openDurationMultiplier * 2, configuration.maxOpenDurationMultiplier)
            return open(at: clock.now(), reason: .probeFailed)
        case (.open, _):
            return nil
        }
    }

    /// Opens the breaker because the dependency cannot be reached at all (no connection can be
    /// established): calls are rejected, with no probe time, until ``recoverReachability(at:)``.
    /// Whoever calls this keeps trying to connect and reports the first success; that is the probe.
    package mutating func markUnreachable(at now: MonotonicInstant) -> CircuitBreakerTransition? {
        guard !isUnreachable, !isIsolated else {
            return nil
        }
        let transition = move(to: .open, at: now, reason: .unreachable)
        isUnreachable = true
        return transition
    }

    /// Closes a breaker opened by ``markUnreachable(at:)``: the dependency accepts connections
    /// again. A breaker opened for any other reason is left alone.
    package mutating func recoverReachability(at now: MonotonicInstant) -> CircuitBreakerTransition? {
        guard isUnreachable else {
            return nil
        }
        return close(at: now, reason: .reachable)
    }

    /// Forces the breaker open until `reset`.
    mutating func isolate(at now: MonotonicInstant) -> CircuitBreakerTransition? {
        guard !isIsolated else {
            return nil
        }
        let transition = move(to: .open, at: now, reason: .isolated)
        isIsolated = true
        return transition
    }

    /// Forces the breaker closed and forgets its history.
    mutating func reset(at now: MonotonicInstant) -> CircuitBreakerTransition? {
        guard state != .closed else {
            consecutiveFailures = 0
            window.removeAll()
            return nil
        }
        return close(at: now, reason: .reset)
    }

    private mutating func appendToWindow(failure: Bool, clock: any ResilienceClock) -> CircuitBreakerTransition? {
        guard let rule = configuration.failureRate else {
            return nil
        }
        window.append(failure: failure)
        guard window.count >= rule.minimumCalls, window.failureRate >= rule.threshold else {
            return nil
        }
        return open(at: clock.now(), reason: .failureRate)
    }

    private mutating func open(at now: MonotonicInstant, reason: CircuitBreakerTransition.Reason) -> CircuitBreakerTransition {
        let transition = move(to: .open, at: now, reason: reason)
        openUntil = now + configuration.openDuration * openDurationMultiplier
        return transition
    }

    private mutating func close(at now: MonotonicInstant, reason: CircuitBreakerTransition.Reason) -> CircuitBreakerTransition {
        let transition = move(to: .closed, at: now, reason: reason)
        consecutiveFailures = 0
        openDurationMultiplier = 1
        return transition
    }

    /// Changes state, starting a new generation with no probes, no deadline and an empty window.
    private mutating func move(
        to newState: CircuitBreakerState,
        at now: MonotonicInstant,
        reason: CircuitBreakerTransition.Reason
    ) -> CircuitBreakerTransition {
        let transition = CircuitBreakerTransition(from: state, to: newState, at: now, reason: reason)
        state = newState
        generation &+= 1
        probesInFlight = 0
        openUntil = nil
        isIsolated = false
        isUnreachable = false
        window.removeAll()
        return transition
    }
}
