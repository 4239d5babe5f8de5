import LockedState

/// Lets a test wait, without sleeping, until something happened a given number of times.
final class Countdown: Sendable {
    private let remaining: Locked<Int>
    private let reachedZero = Gate()

    init(_ count: Int) {
        remaining = Locked(count)
        if count == 0 {
            reachedZero.open()
        }
    }

    func arrive() {
        let isLast = remaining.withLock { remaining in
            remaining -= 1
            return remaining == 0
        }
        if isLast {
            reachedZero.open()
        }
    }

    func wait() async {
        await reachedZero.wait()
    }
}
