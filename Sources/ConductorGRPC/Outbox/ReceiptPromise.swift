import LockedState

/// The receipt of one durably accepted event, for a caller of
/// ``ConductorClient/submitDurablyAndWait(_:)``: fulfilled once by the deliverer (the receipt,
/// or why the event was dead-lettered) or by the shutdown; awaited by one task, which may give up
/// (cancellation) without affecting the delivery.
final class ReceiptPromise: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Result<ConductorReceipt, ConductorError>?, Never>?)
        case fulfilled(Result<ConductorReceipt, ConductorError>)
        case abandoned
    }

    private let state = Locked(State.waiting(nil))

    /// Delivers the outcome (the first one counts).
    func fulfil(_ outcome: Result<ConductorReceipt, ConductorError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<ConductorReceipt, ConductorError>?, Never>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .fulfilled(outcome)
            return waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// The outcome, or nil when the waiting task is cancelled first.
    func outcome() async -> Result<ConductorReceipt, ConductorError>? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<ConductorReceipt, ConductorError>?, Never>) in
                let ready = state.withLock { state -> Result<ConductorReceipt, ConductorError>?? in
                    switch state {
                    case .fulfilled(let outcome): return .some(outcome)
                    case .abandoned: return .some(nil)
                    case .waiting:
                        if Task.isCancelled {
                            state = .abandoned
                            return .some(nil)
                        }
                        state = .waiting(continuation)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Result<ConductorReceipt, ConductorError>?, Never>? in
                guard case .waiting(let waiter) = state else { return nil }
                state = .abandoned
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
