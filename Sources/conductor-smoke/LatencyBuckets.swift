/// A latency histogram with bounded memory: log-linear buckets, 64 per power of two, so a
/// percentile is exact to within 1.6 % whatever the call rate (an in-memory conductor answers
/// millions of calls per second; keeping every sample would not fit).
struct LatencyBuckets: Sendable {
    private static let linearLimit: UInt64 = 128
    private static let bucketCount = 128 + 64 * 40

    private var counts = [Int](repeating: 0, count: LatencyBuckets.bucketCount)
    /// How many latencies were recorded.
    private(set) var count = 0

    /// Records one latency.
    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        counts[Self.index(of: UInt64(nanoseconds))] += 1
        count += 1
    }

    /// Adds another histogram's counts to this one.
    mutating func merge(_ other: LatencyBuckets) {
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
    }

    /// The latency below which a fraction `p` (0...1) of the calls fall, in seconds; 0 when empty.
    func percentile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((Double(count) * p).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return Double(Self.midpoint(of: index)) / 1e9 }
        }
        return Double(Self.midpoint(of: counts.count - 1)) / 1e9
    }

    private static func index(of nanoseconds: UInt64) -> Int {
        if nanoseconds < linearLimit { return Int(nanoseconds) }
        let highestBit = 63 - nanoseconds.leadingZeroBitCount
        let shift = highestBit - 6
        let top = Int(nanoseconds >> UInt64(shift))
        return min(bucketCount - 1, 128 + (shift - 1) * 64 + (top - 64))
    }

    private static func midpoint(of index: Int) -> UInt64 {
        if index < 128 { return UInt64(index) }
        let shift = (index - 128) / 64 + 1
        let top = UInt64((index - 128) % 64 + 64)
        return (top << UInt64(shift)) + (UInt64(1) << UInt64(shift)) / 2
    }
}
