import CRESTShim
import LockedState

/// One HTTP request on the REST loop (libcurl), awaited by one Swift task.
///
/// The continuation is resumed exactly once: by the loop's completion (which the loop runs for
/// every request it accepted), or directly when the task was cancelled before anything started.
/// The state decides which under a lock, and makes sure the call handle is released once and that
/// a cancellation never touches a released handle — as ``HTTP2Exchange`` does for the HTTP/2 shim.
final class CurlExchange: Sendable {
    /// What the request asks for (copied by the loop); where it goes is its ``RESTTarget``'s.
    struct Request: Sendable {
        /// Appended to the target's base URL.
        var path: String
        var post: Bool
        /// The call's own header lines, `name: value`, each ended by a NUL byte.
        var metadata: [UInt8]
        var body: [UInt8]
        var timeout: Duration?
        var maximumResponseBytes: Int
        /// Connect (TCP, TLS) and end without a request: a connection probe.
        var connectOnly = false
        /// Send on a new connection. Over a reused connection that its peer closed before any
        /// answer byte, libcurl sends the request again by itself — a write the conductor does not
        /// deduplicate must not go twice.
        var freshConnection = false
    }

    /// The loop's call, released once (by whichever of start and completion sees the other done).
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private enum State {
        case idle
        case cancelledBeforeStart
        case running(handle: Handle?, continuation: UnsafeContinuation<RESTResponse, Never>, cancelRequested: Bool)
        case finished
    }

    private let state = Locked<State>(.idle)

    /// Runs `request` (once per exchange); Task cancellation or ``cancel()`` closes its connection
    /// (HTTP/1.1) or resets its stream (HTTP/2) and ends it as `.cancelled`.
    func run(_ request: Request, to target: RESTTarget, on loop: RESTLoop) async -> RESTResponse {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in start(request, to: target, on: loop, continuation) }
        } onCancel: {
            cancel()
        }
    }

    private func start(_ request: Request, to target: RESTTarget, on loop: RESTLoop, _ continuation: UnsafeContinuation<RESTResponse, Never>) {
        let proceed = state.withLock { state -> Bool in
            if case .cancelledBeforeStart = state {
                state = .finished
                return false
            }
            state = .running(handle: nil, continuation: continuation, cancelRequested: false)
            return true
        }
        guard proceed else {
            continuation.resume(returning: RESTResponse(outcome: .cancelled, detail: "cancelled"))
            return
        }
        let context = Unmanaged.passRetained(self).toOpaque()
        guard let handle = Self.start(request, to: target, on: loop, context: context).map(Handle.init) else {
            Unmanaged<CurlExchange>.fromOpaque(context).release()
            finish(with: RESTResponse(outcome: .notSent, detail: "out of memory"))
            return
        }
        enum Next { case nothing, releaseHandle, cancel }
        let next = state.withLock { state -> Next in
            switch state {
            case .running(_, let continuation, let cancelRequested):
                state = .running(handle: handle, continuation: continuation, cancelRequested: cancelRequested)
                return cancelRequested ? .cancel : .nothing
            case .finished:
                return .releaseHandle // the completion ran before the handle was stored
            case .idle, .cancelledBeforeStart:
                preconditionFailure("exchange state corrupted")
            }
        }
        switch next {
        case .nothing: break
        case .releaseHandle: rest_call_release(handle.pointer)
        case .cancel: cancel()
        }
    }

    /// Hands the request to the loop (which copies what it needs before returning).
    private static func start(_ request: Request, to target: RESTTarget, on loop: RESTLoop,
                              context: UnsafeMutableRawPointer) -> OpaquePointer? {
        request.path.withCString { path in
            request.metadata.withUnsafeBufferPointer { metadata in
                request.body.withUnsafeBufferPointer { body in
                    var spec = rest_request(
                        path: path, post: request.post,
                        metadata: metadata.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                        metadata_len: metadata.count, body: body.baseAddress, body_len: body.count,
                        timeout_ms: request.timeout.map { Self.milliseconds($0) } ?? 0,
                        max_response_bytes: UInt64(request.maximumResponseBytes), connect_only: request.connectOnly, fresh_connection: request.freshConnection)
                    return rest_call_start(loop.pointer, target.pointer, &spec, CurlExchange.onComplete, context)
                }
            }
        }
    }

    /// A timeout in whole milliseconds, at least 1 (0 means none to libcurl).
    private static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        let total = UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
        return max(total, 1)
    }

    func cancel() {
        state.withLock { state in
            switch state {
            case .idle:
                state = .cancelledBeforeStart
            case .running(let handle, let continuation, _):
                if let handle {
                    rest_call_cancel(handle.pointer) // under the lock: the completion releases only after taking it out
                } else {
                    state = .running(handle: nil, continuation: continuation, cancelRequested: true)
                }
            case .cancelledBeforeStart, .finished:
                break
            }
        }
    }

    private func finish(with response: RESTResponse) {
        let taken = state.withLock { state -> (UnsafeContinuation<RESTResponse, Never>, Handle?)? in
            guard case .running(let stored, let continuation, _) = state else { return nil }
            state = .finished
            return (continuation, stored)
        }
        guard let (continuation, stored) = taken else { return }
        if let stored { rest_call_release(stored.pointer) }
        continuation.resume(returning: response)
    }

    private static let onComplete: rest_completion_fn = { context, result in
        guard let context, let result else { return }
        let exchange = Unmanaged<CurlExchange>.fromOpaque(context).takeRetainedValue()
        exchange.finish(with: RESTResponse(result.pointee))
    }
}

extension RESTResponse {
    /// What libcurl's transfer ended with, copied from the loop's result (valid only during the completion).
    init(_ result: rest_result) {
        switch result.outcome {
        case REST_COMPLETE: outcome = .complete
        case REST_NOT_SENT: outcome = .notSent
        case REST_DEADLINE_EXCEEDED: outcome = .deadlineExceeded
        case REST_CANCELLED: outcome = .cancelled
        case REST_RESPONSE_TOO_LARGE: outcome = .responseTooLarge
        default: outcome = .connectionLost
        }
        status = result.status
        detail = result.detail.map { String(cString: $0) } ?? ""
        if let bytes = result.body, result.body_len > 0 {
            body = Array(UnsafeBufferPointer(start: bytes, count: result.body_len))
        }
        retryAfter = result.retry_after.map { String(cString: $0) }
        location = result.location.map { String(cString: $0) }
    }
}
