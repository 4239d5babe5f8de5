import CNGHTTP2Shim
import LockedState

/// A task executor that runs jobs on the shim's event-loop thread, between the loop's turns.
///
/// A caller that runs on it (`withTaskExecutorPreference`) submits its call on the thread that
/// writes it, and is resumed by the completion callback without leaving that thread: no eventfd
/// wake-up to hand the call to the loop and no futex wake-up to hand the answer back. That is two
/// thread hops per call fewer. The price is that the caller's own work runs on the loop thread and
/// delays every connection's I/O meanwhile, so it is for callers that do little between calls and
/// never block.
package final class LoopTaskExecutor: TaskExecutor {
    /// The executor of the process-wide loop.
    package static let shared = LoopTaskExecutor(loop: h2shim_loop_shared())

    private nonisolated(unsafe) let loop: OpaquePointer // the loop is thread-safe to signal
    private let queued = Locked<[UnownedJob]>([])
    /// The drained batch's storage, reused; only the loop thread touches it.
    private nonisolated(unsafe) var spare: [UnownedJob] = []

    private init(loop: OpaquePointer) {
        self.loop = loop
        // The singleton lives as long as the process, as the loop does: no retain is needed.
        h2shim_loop_set_job_runner(loop, LoopTaskExecutor.runJobs, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Whether the calling thread is the loop's.
    package var isCurrent: Bool { h2shim_loop_is_current(loop) }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queued.withLock { $0.append(job) }
        h2shim_loop_signal_jobs(loop)
    }

    private static let runJobs: h2shim_job_runner_fn = { context in
        guard let context else { return }
        Unmanaged<LoopTaskExecutor>.fromOpaque(context).takeUnretainedValue().runQueuedJobs()
    }

    /// Runs the jobs queued so far; jobs they queue run in the loop's next pass.
    private func runQueuedJobs() {
        var batch = spare
        queued.withLock { swap(&$0, &batch) }
        let executor = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(on: executor) }
        batch.removeAll(keepingCapacity: true)
        spare = batch
    }
}
