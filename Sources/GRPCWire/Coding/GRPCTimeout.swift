/// The `grpc-timeout` header: a positive integer of at most 8 digits followed by a unit
/// (`H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds).
package enum GRPCTimeout {
    private static let maximumValue: Int64 = 99_999_999
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("n", 1), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000),
        ("M", 60_000_000_000), ("H", 3_600_000_000_000),
    ]

    /// Encodes a timeout with the finest unit whose value fits in 8 digits, rounding up so the
    /// server never sees a shorter deadline than the client's, and never sending 0.
    package static func encode(_ timeout: Duration) -> String {
        let (seconds, attoseconds) = timeout.components
        let nanos: Int64
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) {
            nanos = 1
        } else if seconds >= Int64.max / 1_000_000_000 - 1 {
            nanos = Int64.max
        } else {
            nanos = seconds * 1_000_000_000 + (attoseconds + 999_999_999) / 1_000_000_000
        }
        for unit in units {
            let value = nanos / unit.nanoseconds + (nanos % unit.nanoseconds == 0 ? 0 : 1)
            if value <= maximumValue { return "\(max(value, 1))\(unit.suffix)" }
        }
        return "\(maximumValue)H"
    }

    /// Parses a `grpc-timeout` value; nil when it is malformed.
    package static func parse(_ value: String) -> Duration? {
        guard let suffix = value.last, value.count >= 2, value.count <= 9,
              let unit = units.first(where: { $0.suffix == String(suffix) }),
              let amount = Int64(value.dropLast()), amount >= 0,
              value.dropLast().allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let (product, overflow) = amount.multipliedReportingOverflow(by: unit.nanoseconds)
        return overflow ? nil : .nanoseconds(product)
    }
}
