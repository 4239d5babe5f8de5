/// A fixed-size log-linear latency histogram, so recording a call costs an increment and never
/// allocates. Values below 128 ns are exact; above, each power of two is split into 64 buckets (at
/// most 1.6 % error). The C++ peer uses the same layout (`Benchmarks/cpp/latency_histogram.h`).
///
/// This file is shared with the grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`) through a symlink.
struct LatencyHistogram: Sendable {
    private static let exact = 128
    private static let subBuckets = 64
    private static let maxExponent = 40
    private static let bucketCount = exact + (maxExponent - 6) * subBuckets

    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)
    /// How many values were recorded.
    private(set) var total: UInt64 = 0

    /// Records `count` values of `nanoseconds` each.
    mutating func record(nanoseconds: UInt64, count: UInt64 = 1) {
        counts[Self.index(nanoseconds)] &+= count
        total &+= count
    }

    /// Adds another histogram's values to this one.
    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        total &+= other.total
    }

    /// The value in nanoseconds (bucket midpoint) at or below which `fraction` of the values lie.
    func percentile(_ fraction: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64(fraction * Double(total)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() {
            seen &+= count
            if seen >= rank { return Self.midpoint(index) }
        }
        return Self.midpoint(counts.count - 1)
    }

    private static func index(_ value: UInt64) -> Int {
        if value < UInt64(exact) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        if exponent > maxExponent { return bucketCount - 1 }
        let sub = Int((value >> UInt64(exponent - 6)) & UInt64(subBuckets - 1))
        return exact + (exponent - 7) * subBuckets + sub
    }

    private static func midpoint(_ index: Int) -> Double {
        if index < exact { return Double(index) }
        let offset = index - exact
        let exponent = offset / subBuckets + 7
        let width = UInt64(1) << UInt64(exponent - 6)
        return Double(UInt64(subBuckets + offset % subBuckets) * width) + Double(width) / 2
    }
}
