import Synchronization

/// Running totals of the load phase, shared by its workers and read by the progress line.
final class LoadCounters: Sendable {
    private let callCount = Atomic<Int>(0)
    private let errorCount = Atomic<Int>(0)

    /// Calls finished so far, failed ones included.
    var calls: Int { callCount.load(ordering: .relaxed) }
    /// Failed calls so far.
    var errors: Int { errorCount.load(ordering: .relaxed) }

    /// Counts finished calls, `failed` of them failures.
    func add(calls: Int, failed: Int) {
        callCount.add(calls, ordering: .relaxed)
        if failed > 0 { errorCount.add(failed, ordering: .relaxed) }
    }
}
