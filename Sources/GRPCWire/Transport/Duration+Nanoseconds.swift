extension Duration {
    /// The duration in whole nanoseconds for the C shim, rounded up, at least 1 (the shim reads 0
    /// as "none"), saturating far in the future.
    var shimNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 1 }
        if seconds >= 1 << 33 { return 1 << 63 }
        return UInt64(seconds) * 1_000_000_000 + UInt64((attoseconds + 999_999_999) / 1_000_000_000)
    }
}
