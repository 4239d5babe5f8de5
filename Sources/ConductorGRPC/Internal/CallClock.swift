import BridgeResilience

/// The time source of the pool and the retry loop: reads the monotonic time and sleeps until an
/// instant. Production uses the system clock; tests use a manual clock whose sleepers wake only
/// when the test advances it, so deadlines, backoff and waiting are tested without real time.
protocol CallClock: ResilienceClock {
    /// Returns at `deadline` (or at once if it passed); throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: MonotonicInstant) async throws
}

/// The system's monotonic clock.
struct SystemCallClock: CallClock {
    private let system = SystemResilienceClock()

    func now() -> MonotonicInstant { system.now() }

    func sleep(until deadline: MonotonicInstant) async throws {
        let wait = now().duration(to: deadline)
        if wait > .zero { try await Task.sleep(for: wait) }
        try Task.checkCancellation()
    }
}
