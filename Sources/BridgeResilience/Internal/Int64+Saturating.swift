extension Int64 {
    /// `self + other`, clamped to the range of `Int64` instead of trapping.
    func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if overflow {
            return other < 0 ? .min : .max
        }
        return sum
    }

    /// `self - other`, clamped to the range of `Int64` instead of trapping.
    func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if overflow {
            return other < 0 ? .max : .min
        }
        return difference
    }
}
