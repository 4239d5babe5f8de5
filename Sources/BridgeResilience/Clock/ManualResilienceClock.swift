import Synchronization

/// A clock that only moves when told to, for deterministic tests of time-based behaviour.
///
/// It is thread safe: any task may read it while another advances it.
public final class ManualResilienceClock: ResilienceClock {
    private let current: Atomic<Int64>

    /// Creates a clock that reads `start` until it is advanced.
    public init(start: MonotonicInstant = MonotonicInstant(nanoseconds: 0)) {
        current = Atomic(start.nanoseconds)
    }

    /// The clock's current reading.
    public func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: current.load(ordering: .acquiring))
    }

    /// Moves the clock forward by `duration`, which must not be negative.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a monotonic clock cannot go backwards (advance(by: \(duration)))")
        current.add(duration.saturatedNanoseconds, ordering: .acquiringAndReleasing)
    }
}
