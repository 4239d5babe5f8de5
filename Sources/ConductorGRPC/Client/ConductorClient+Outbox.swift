extension ConductorClient {
    /// Accepts `event` into the durable outbox (``ConductorOutbox``) and returns its sequence
    /// number once it is committed to disk; ``run()`` delivers it — after a conductor outage or a
    /// restart if need be — and the caller does not wait for that. To wait for the receipt, use
    /// ``submitDurablyAndWait(_:)``.
    ///
    /// Fails at once with ``ConductorError/Kind/outboxFull`` when the outbox is at
    /// `CONDUCTOR_OUTBOX_MAX_EVENTS` or `_MAX_BYTES`, with ``ConductorError/Kind/invalidConfiguration``
    /// when no outbox is configured (`CONDUCTOR_OUTBOX_PATH`), and with ``ConductorError/Kind/shutDown``
    /// once the client shuts down. An event this call accepted is never dropped: it is delivered,
    /// or moved to the dead letters if the conductor rejects it as invalid.
    public func submitDurably(_ event: ConductorEvent) async throws(ConductorError) -> Int64 {
        try await accept(event, promise: nil)
    }

    /// As ``submitDurably(_:)``, then waits for the conductor's receipt. When the wait ends
    /// otherwise — the task is cancelled, the client shuts down, the conductor rejects the event —
    /// the error says so; in the first two cases the event stays queued and is delivered later.
    public func submitDurablyAndWait(_ event: ConductorEvent) async throws(ConductorError) -> ConductorReceipt {
        let promise = ReceiptPromise()
        _ = try await accept(event, promise: promise)
        guard let outcome = await promise.outcome() else {
            throw ConductorError(kind: .cancelled, code: .cancelled,
                                 message: "stopped waiting for the receipt; the event stays in the outbox and will be delivered",
                                 method: .submitEventsBatch)
        }
        return try outcome.get()
    }

    private func accept(_ event: ConductorEvent, promise: ReceiptPromise?) async throws(ConductorError) -> Int64 {
        guard let outbox else {
            throw .invalidConfiguration("no outbox is configured: set CONDUCTOR_OUTBOX_PATH to use durable submits")
        }
        return try await withCallRegistered(.submitEvent) { () async throws(ConductorError) in
            try await outbox.accept(event, promise: promise)
        }
    }
}
