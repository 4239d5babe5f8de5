/// The last `capacity` success/failure outcomes, in a ring buffer with a running failure count.
struct OutcomeWindow {
    private var isFailure: [Bool]
    private var nextIndex = 0
    private(set) var count = 0
    private(set) var failureCount = 0

    init(capacity: Int) {
        isFailure = Array(repeating: false, count: capacity)
    }

    /// The fraction of failures among the outcomes held (0 when empty).
    var failureRate: Double {
        count == 0 ? 0 : Double(failureCount) / Double(count)
    }

    /// Adds an outcome, dropping the oldest one when the window is full.
    mutating func append(failure: Bool) {
        if count == isFailure.count {
            if isFailure[nextIndex] {
                failureCount -= 1
            }
        } else {
            count += 1
        }
        isFailure[nextIndex] = failure
        if failure {
            failureCount += 1
        }
        nextIndex += 1
        if nextIndex == isFailure.count {
            nextIndex = 0
        }
    }

    /// Forgets every outcome, keeping the capacity.
    mutating func removeAll() {
        nextIndex = 0
        count = 0
        failureCount = 0
    }
}
