import LockedState

/// A circuit breaker: stops calling a dependency that keeps failing, then probes it for recovery.
///
/// ```swift
/// switch breaker.tryAcquire() {
/// case .admitted(let permit):
///     let outcome = await performCall()      // map the result to .success, .failure or .ignored
///     breaker.record(outcome, for: permit)
/// case .rejected(let retryAt):
///     throw CircuitOpen(retryAt: retryAt)    // fail fast, no network
/// }
/// ```
///
/// - **Closed**: calls are admitted. ``CircuitBreakerConfiguration/failureThreshold`` consecutive
///   failures (or the optional ``CircuitBreakerConfiguration/failureRate`` rule) open the breaker.
/// - **Open**: calls are rejected with the instant the breaker will admit a probe. There are no
///   timers: the first ``tryAcquire()`` after the open duration turns the breaker half-open.
/// - **Half-open**: at most ``CircuitBreakerConfiguration/halfOpenProbeLimit`` probes run at a
///   time. A successful probe closes the breaker; a failed one re-opens it for twice as long as
///   before (capped at ``CircuitBreakerConfiguration/maxOpenDurationMultiplier`` times the base).
///
/// Outcomes reported for permits issued before the latest state change are ignored, so a slow
/// call admitted while closed cannot decide the fate of a half-open breaker.
///
/// The breaker is on every call's path: each method takes one short lock and allocates nothing.
/// The clock is read only when a decision needs the time.
public final class CircuitBreaker: Sendable {
    /// The configuration the breaker was created with.
    public let configuration: CircuitBreakerConfiguration

    private let machine: Locked<CircuitBreakerStateMachine>
    private let clock: any ResilienceClock
    private let onTransition: (@Sendable (CircuitBreakerTransition) -> Void)?

    /// Creates a closed breaker.
    ///
    /// - Parameters:
    ///   - configuration: thresholds and durations; invalid values (a threshold, probe limit or
    ///     multiplier below 1, a non-positive open duration, a failure-rate rule out of range) trap.
    ///   - clock: the time source; tests pass a ``ManualResilienceClock``.
    ///   - onTransition: called after every state change, outside the breaker's lock, on the
    ///     thread that caused the change. Transitions caused concurrently may be reported out of order;
    ///     ``CircuitBreakerTransition/at`` orders them.
    public init(
        configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        clock: any ResilienceClock = SystemResilienceClock(),
        onTransition: (@Sendable (CircuitBreakerTransition) -> Void)? = nil
    ) {
        precondition(configuration.failureThreshold >= 1, "failureThreshold must be at least 1")
        precondition(configuration.openDuration > .zero, "openDuration must be positive")
        precondition(configuration.maxOpenDurationMultiplier >= 1, "maxOpenDurationMultiplier must be at least 1")
        precondition(configuration.halfOpenProbeLimit >= 1, "halfOpenProbeLimit must be at least 1")
        if let rule = configuration.failureRate {
            precondition(rule.threshold > 0 && rule.threshold <= 1, "failureRate.threshold must be in 0 < t ≤ 1")
            precondition(rule.windowSize >= 1, "failureRate.windowSize must be at least 1")
            precondition((1...rule.windowSize).contains(rule.minimumCalls), "failureRate.minimumCalls must be in 1...windowSize")
        }
        self.configuration = configuration
        self.machine = Locked(CircuitBreakerStateMachine(configuration: configuration))
        self.clock = clock
        self.onTransition = onTransition
    }

    /// The current state (see ``CircuitBreakerSnapshot/state`` for the lazy open → half-open move).
    public var state: CircuitBreakerState {
        machine.withLock { $0.state }
    }

    /// The current state and counters, read atomically.
    public var snapshot: CircuitBreakerSnapshot {
        machine.withLock { $0.snapshot }
    }

    /// Asks to make a call: returns a permit, or a rejection when the breaker is open or its probe
    /// slots are taken.
    public func tryAcquire() -> CircuitBreakerAdmission {
        let (admission, transition) = machine.withLock { $0.acquire(clock: clock) }
        report(transition)
        return admission
    }

    /// Reports the outcome of a call admitted with `permit`. Call it exactly once per permit.
    public func record(_ outcome: CircuitBreakerOutcome, for permit: CircuitBreakerPermit) {
        let transition = machine.withLock { $0.record(outcome, for: permit, clock: clock) }
        report(transition)
    }

    /// Forces the breaker open, rejecting every call until ``reset()``.
    public func isolate() {
        let now = clock.now()
        let transition = machine.withLock { $0.isolate(at: now) }
        report(transition)
    }

    /// Forces the breaker closed, clearing its failure history and open-duration growth.
    public func reset() {
        let now = clock.now()
        let transition = machine.withLock { $0.reset(at: now) }
        report(transition)
    }

    private func report(_ transition: CircuitBreakerTransition?) {
        if let transition, let onTransition {
            onTransition(transition)
        }
    }
}
