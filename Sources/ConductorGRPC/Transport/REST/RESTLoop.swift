import CRESTShim
import GRPCWire
import LockedState

/// A client's REST loop (`CRESTShim`): libcurl's multi handle on a thread of its own, holding the
/// client's connections. Closing it (``close()``, or when the transport goes away) cancels what
/// still runs and closes every connection, so a client that shut down leaves no socket open.
final class RESTLoop: Sendable {
    private let loop: LoopTaskExecutor.LoopPointer
    private let closed = Locked(false)
    /// Runs tasks on the loop's thread (``ConductorClient/loopExecutor``); after the loop ended,
    /// on the global executor.
    let executor: LoopTaskExecutor

    init() throws(ConductorError) {
        guard let loop = rest_loop_create() else {
            let reason = rest_transport_load_error().map { String(cString: $0) } ?? "no thread for its loop"
            throw .invalidConfiguration("cannot start the REST transport: \(reason)")
        }
        let handle = LoopTaskExecutor.LoopPointer(loop)
        self.loop = handle
        executor = LoopTaskExecutor(signal: { rest_loop_signal_jobs(handle.value) },
                                    isCurrent: { rest_loop_is_current(handle.value) })
        // The loop holds the executor until its last runner call.
        rest_loop_set_job_runner(loop, { context, last in
            guard let context else { return }
            let executor = Unmanaged<LoopTaskExecutor>.fromOpaque(context)
            executor.takeUnretainedValue().runQueuedJobs(loopEnds: last)
            if last { executor.release() }
        }, Unmanaged.passRetained(executor).toOpaque())
    }

    /// For ``CurlExchange``: valid while this object lives; after ``close()`` the loop refuses new requests.
    var pointer: OpaquePointer { loop.value }

    /// Ends the loop: requests still running end as cancelled, later ones are not sent. Returns
    /// once the loop thread has closed every connection.
    func close() async {
        requestClose()
        await executor.untilLoopEnds()
    }

    /// Asks the loop to end, without waiting for it.
    private func requestClose() {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { rest_loop_close(loop.value) }
    }

    deinit {
        requestClose()
        rest_loop_release(loop.value)
    }
}
