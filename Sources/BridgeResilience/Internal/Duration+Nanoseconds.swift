extension Duration {
    /// The duration in whole nanoseconds, truncated toward zero and clamped to the range of `Int64`.
    var saturatedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (wholeSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow {
            return seconds < 0 ? .min : .max
        }
        return wholeSeconds.saturatingAdding(attoseconds / 1_000_000_000)
    }
}
