/// A monotonic time source for the resilience primitives.
///
/// The circuit breaker and the cache read the time through this protocol so that tests can drive
/// them with a ``ManualResilienceClock``. Nothing in this module sleeps: functions that need the
/// caller to wait return a `Duration` or a ``MonotonicInstant`` instead.
public protocol ResilienceClock: Sendable {
    /// The current instant. Successive calls never go backwards.
    func now() -> MonotonicInstant
}
