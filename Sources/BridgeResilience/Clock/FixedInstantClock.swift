/// A clock stopped at one instant: lets a state machine that is handed the time as an argument
/// drive the clock-reading primitives (``CircuitBreakerStateMachine``) without reading a clock.
package struct FixedInstantClock: ResilienceClock {
    private let instant: MonotonicInstant

    /// A clock that always reads `instant`.
    package init(_ instant: MonotonicInstant) {
        self.instant = instant
    }

    /// The fixed instant.
    package func now() -> MonotonicInstant {
        instant
    }
}
