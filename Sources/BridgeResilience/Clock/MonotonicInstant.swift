/// A point on a monotonic timeline, counted in nanoseconds from an arbitrary origin.
///
/// Instants are only comparable with instants read from the same ``ResilienceClock``.
/// Arithmetic saturates instead of trapping, so "far in the future" stays representable.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public let nanoseconds: Int64

    /// Creates an instant `nanoseconds` after the clock's origin.
    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `duration` after this one (saturating at the ends of the timeline).
    public func advanced(by duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds.saturatingAdding(duration.saturatedNanoseconds))
    }

    /// The duration from this instant to `other` (negative when `other` is earlier).
    public func duration(to other: MonotonicInstant) -> Duration {
        .nanoseconds(other.nanoseconds.saturatingSubtracting(nanoseconds))
    }

    /// The instant `rhs` after `lhs`.
    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        lhs.advanced(by: rhs)
    }

    /// The duration from `rhs` to `lhs`.
    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        rhs.duration(to: lhs)
    }

    /// Orders instants by their position on the timeline.
    @inlinable
    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The instant as nanoseconds since the origin, e.g. `"1500000000ns"`.
    public var description: String {
        "\(nanoseconds)ns"
    }
}
