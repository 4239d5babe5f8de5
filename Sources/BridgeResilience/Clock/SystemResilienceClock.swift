#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's monotonic clock (`CLOCK_MONOTONIC`).
///
/// It is unaffected by changes to the wall clock. Reading it costs one `clock_gettime` call
/// (a vDSO call on Linux, no system call), which is cheaper than converting a
/// `ContinuousClock.Instant` into nanoseconds.
public struct SystemResilienceClock: ResilienceClock {
    /// Creates the system clock. All instances share one timeline.
    public init() {}

    /// The current monotonic time.
    public func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }
}
