import CNGHTTP2Shim
import LockedState

/// One request/response exchange on a connection, awaited by one Swift task.
///
/// The continuation is resumed exactly once: either by the shim's completion callback (the shim
/// guarantees exactly one completion for every call it accepted, on every path: response, reset,
/// deadline, cancel, connection loss), or — only when the task was cancelled before anything was
/// submitted — directly, in which case nothing reaches the shim. The state below decides which,
/// under a lock, and also makes sure the shim's call handle is released exactly once and that a
/// cancellation never touches a released handle.
final class HTTP2Exchange: Sendable {
    private enum State {
        case idle
        case cancelledBeforeStart
        case running(handle: ShimCallHandle?, continuation: UnsafeContinuation<HTTP2StreamResult, Never>, cancelRequested: Bool)
        case finished
    }

    private let state = Locked<State>(.idle)
    private let keepsAllHeaders: Bool

    private init(keepsAllHeaders: Bool) {
        self.keepsAllHeaders = keepsAllHeaders
    }

    /// Submits the request and waits for its result; Task cancellation resets the stream.
    static func run(
        on connection: OpaquePointer,
        headers: HTTP2HeaderBlock,
        body: [UInt8],
        timeout: Duration?,
        maximumResponseBytes: Int,
        keepingAllHeaders: Bool
    ) async -> HTTP2StreamResult {
        let exchange = HTTP2Exchange(keepsAllHeaders: keepingAllHeaders)
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                exchange.start(
                    continuation, connection: connection, headers: headers, body: body,
                    timeout: timeout, maximumResponseBytes: maximumResponseBytes)
            }
        } onCancel: {
            exchange.cancel()
        }
    }

    private func start(
        _ continuation: UnsafeContinuation<HTTP2StreamResult, Never>,
        connection: OpaquePointer,
        headers: HTTP2HeaderBlock,
        body: [UInt8],
        timeout: Duration?,
        maximumResponseBytes: Int
    ) {
        let proceed = state.withLock { state -> Bool in
            if case .cancelledBeforeStart = state {
                state = .finished
                return false
            }
            state = .running(handle: nil, continuation: continuation, cancelRequested: false)
            return true
        }
        guard proceed else {
            continuation.resume(returning: HTTP2StreamResult(outcome: .cancelled))
            return
        }

        let context = Unmanaged.passRetained(self).toOpaque()
        let timeoutNanoseconds = timeout?.shimNanoseconds ?? 0
        let handle = headers.bytes.withUnsafeBufferPointer { headerBytes in
            body.withUnsafeBufferPointer { bodyBytes in
                h2shim_submit(
                    connection, headerBytes.baseAddress, headerBytes.count, headers.count,
                    bodyBytes.baseAddress, bodyBytes.count, timeoutNanoseconds,
                    UInt64(maximumResponseBytes), HTTP2Exchange.onComplete, context)
            }
        }
        guard let handle = handle.map(ShimCallHandle.init) else {
            Unmanaged<HTTP2Exchange>.fromOpaque(context).release()
            finish(with: HTTP2StreamResult(outcome: .notSent(reason: "out of memory")))
            return
        }
        enum Next { case nothing, releaseHandle, cancel }
        let next = state.withLock { state -> Next in
            switch state {
            case .running(_, let continuation, let cancelRequested):
                state = .running(handle: handle, continuation: continuation, cancelRequested: cancelRequested)
                return cancelRequested ? .cancel : .nothing
            case .finished:
                return .releaseHandle // the completion ran before we could store the handle
            case .idle, .cancelledBeforeStart:
                preconditionFailure("exchange state corrupted")
            }
        }
        switch next {
        case .nothing: break
        case .releaseHandle: h2shim_call_release(handle.pointer)
        case .cancel: cancel()
        }
    }

    private func cancel() {
        state.withLock { state in
            switch state {
            case .idle:
                state = .cancelledBeforeStart
            case .running(let handle, let continuation, _):
                if let handle {
                    // Safe under the lock: the completion releases the handle only after taking it
                    // out of this state.
                    h2shim_call_cancel(handle.pointer)
                } else {
                    state = .running(handle: nil, continuation: continuation, cancelRequested: true)
                }
            case .cancelledBeforeStart, .finished:
                break
            }
        }
    }

    private func finish(with result: HTTP2StreamResult) {
        let taken = state.withLock { state -> (UnsafeContinuation<HTTP2StreamResult, Never>, ShimCallHandle?)? in
            guard case .running(let handle, let continuation, _) = state else { return nil }
            state = .finished
            return (continuation, handle)
        }
        guard let (continuation, handle) = taken else { return }
        if let handle { h2shim_call_release(handle.pointer) }
        continuation.resume(returning: result)
    }

    private static let onComplete: h2shim_completion_fn = { context, result in
        guard let context, let result else { return }
        let exchange = Unmanaged<HTTP2Exchange>.fromOpaque(context).takeRetainedValue()
        exchange.finish(with: HTTP2StreamResult(copying: result, keepingAllHeaders: exchange.keepsAllHeaders))
    }

}

/// The shim's call pointer; h2shim_call_cancel and h2shim_call_release may be called from any
/// thread, and the exchange's lock decides who may still use it.
struct ShimCallHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
