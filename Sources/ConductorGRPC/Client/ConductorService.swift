import ServiceLifecycle

/// What a Chorus Conductor offers, whichever way it is reached: ``ConductorClient`` talks to a
/// remote conductor over gRPC; the in-memory conductor (`CONDUCTOR_MODE=memory`) answers in
/// process with the same semantics, for tests and local development.
///
/// Every failure is a ``ConductorError``. Both are a swift-service-lifecycle `Service`: put the
/// service in your `ServiceGroup` and its `run()` owns its background work and its graceful shutdown.
public protocol ConductorService: Service {
    /// The proof for `day`; a day without a proof throws `NOT_FOUND`.
    ///
    /// It runs on the caller's executor (`nonisolated(nonsending)`): a cached proof is returned
    /// without an executor hop, which would cost more than the lookup itself.
    nonisolated(nonsending)
    func dayProof(_ day: Int32, options: ConductorCallOptions) async throws(ConductorError) -> DayProof
    /// Submits one event; the receipt's hash identifies the event's content.
    func submit(_ event: ConductorEvent, options: ConductorCallOptions) async throws(ConductorError) -> ConductorReceipt
    /// Submits events all-or-nothing: one receipt per event, in order, or an error and nothing applied.
    func submit(batch events: [ConductorEvent], options: ConductorCallOptions) async throws(ConductorError) -> [ConductorReceipt]
    /// The conductor's health.
    func health(service: String, options: ConductorCallOptions) async throws(ConductorError) -> ServingStatus
    /// Refuses new calls, waits for the calls in flight, then releases resources.
    func shutdown() async
}

extension ConductorService {
    /// The proof for `day`, from the cache when it holds it, with the default deadline.
    nonisolated(nonsending)
    public func dayProof(_ day: Int32) async throws(ConductorError) -> DayProof {
        try await dayProof(day, options: ConductorCallOptions())
    }

    /// Submits one event with the default deadline.
    public func submit(_ event: ConductorEvent) async throws(ConductorError) -> ConductorReceipt {
        try await submit(event, options: ConductorCallOptions())
    }

    /// Submits a batch with the default deadline.
    public func submit(batch events: [ConductorEvent]) async throws(ConductorError) -> [ConductorReceipt] {
        try await submit(batch: events, options: ConductorCallOptions())
    }

    /// The health of the whole conductor, with the default deadline.
    public func health() async throws(ConductorError) -> ServingStatus {
        try await health(service: "", options: ConductorCallOptions())
    }
}
