import CNGHTTP2Shim
import LockedState

/// A task executor that runs jobs on an event-loop thread (the gRPC shim's, or a REST client's),
/// between the loop's turns.
///
/// A caller that runs on it (`withTaskExecutorPreference`) submits its call on the thread that
/// writes it, and is resumed by the completion callback without leaving that thread: no eventfd
/// wake-up to hand the call to the loop and no futex wake-up to hand the answer back. That is two
/// thread hops per call fewer. The price is that the caller's own work runs on the loop thread and
/// delays every connection's I/O meanwhile, so it is for callers that do little between calls and
/// never block.
///
/// The loop calls ``runQueuedJobs(loopEnds:)`` when signalled. A loop that ends (a REST client's,
/// at shutdown) calls it a last time; jobs that arrive later go to the global executor, so that no
/// task is ever left waiting for a thread that is gone.
package final class LoopTaskExecutor: TaskExecutor {
    /// The executor of the process-wide gRPC loop, which never ends.
    package static let shared: LoopTaskExecutor = {
        let loop = LoopPointer(h2shim_loop_shared())
        let executor = LoopTaskExecutor(signal: { h2shim_loop_signal_jobs(loop.value) },
                                        isCurrent: { h2shim_loop_is_current(loop.value) })
        // The singleton lives as long as the process, as the loop does: no retain is needed.
        h2shim_loop_set_job_runner(loop.value, { context in
            guard let context else { return }
            Unmanaged<LoopTaskExecutor>.fromOpaque(context).takeUnretainedValue().runQueuedJobs(loopEnds: false)
        }, Unmanaged.passUnretained(executor).toOpaque())
        return executor
    }()

    /// A loop handle that may cross threads (the loops' signal functions are thread-safe).
    package struct LoopPointer: @unchecked Sendable {
        package let value: OpaquePointer
        package init(_ value: OpaquePointer) { self.value = value }
    }

    private struct Queue {
        var jobs: [UnownedJob] = []
        var loopEnded = false
        /// Tasks waiting in ``untilLoopEnds()``.
        var endWaiters: [UnsafeContinuation<Void, Never>] = []
    }

    private let queue = Locked(Queue())
    /// The drained batch's storage, reused; only the loop thread touches it.
    private nonisolated(unsafe) var spare: [UnownedJob] = []
    private let signalLoop: @Sendable () -> Void
    private let loopIsCurrent: @Sendable () -> Bool

    /// An executor for a loop whose owner registers ``runQueuedJobs(loopEnds:)`` as its job
    /// runner. `signal` asks the loop to run it (from any thread); `isCurrent` says whether the
    /// calling thread is the loop's.
    package init(signal: @escaping @Sendable () -> Void, isCurrent: @escaping @Sendable () -> Bool) {
        signalLoop = signal
        loopIsCurrent = isCurrent
    }

    /// Whether the calling thread is the loop's.
    package var isCurrent: Bool { loopIsCurrent() }

    /// Whether the loop made its last call: jobs go to the global executor now.
    package var loopHasEnded: Bool { queue.withLock { $0.loopEnded } }

    /// Returns once the loop made its last call (for a REST loop: its connections are closed).
    package func untilLoopEnds() async {
        await withUnsafeContinuation { continuation in
            let ended = queue.withLock { queue -> Bool in
                if !queue.loopEnded { queue.endWaiters.append(continuation) }
                return queue.loopEnded
            }
            if ended { continuation.resume() }
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let queued = queue.withLock { queue -> Bool in
            guard !queue.loopEnded else { return false }
            queue.jobs.append(job)
            return true
        }
        if queued {
            signalLoop()
        } else {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }

    /// Runs the jobs queued so far, on the loop thread; jobs they queue run in the loop's next
    /// pass. `loopEnds`: this is the loop's last call, later jobs go to the global executor.
    package func runQueuedJobs(loopEnds: Bool) {
        var batch = spare
        let endWaiters = queue.withLock { queue -> [UnsafeContinuation<Void, Never>] in
            swap(&queue.jobs, &batch)
            guard loopEnds else { return [] }
            queue.loopEnded = true
            defer { queue.endWaiters = [] }
            return queue.endWaiters
        }
        let executor = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(on: executor) }
        batch.removeAll(keepingCapacity: true)
        spare = batch
        for waiter in endWaiters { waiter.resume() }
    }
}
