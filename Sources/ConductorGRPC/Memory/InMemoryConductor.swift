import LockedState
import Metrics
import ServiceLifecycle

/// A Chorus Conductor inside the process (`CONDUCTOR_MODE=memory`), for tests and local
/// development without a network.
///
/// It has the API of ``ConductorClient`` (both are a ``ConductorService``) and the semantics of
/// the project's reference conductor:
///
/// - ``dayProof(_:options:)`` answers from the configured day proofs (by default
///   ``referenceDayProofs()``: days 1...999 canonical) and throws `NOT_FOUND`
///   "no proof for day <d>" for any other day. As with ``ConductorClient``'s cache,
///   ``ConductorCachePolicy/useCache`` answers a day served before with the same proof, and
///   ``ConductorCachePolicy/reload`` asks again;
/// - a receipt's ``ConductorReceipt/eventHash`` is the SHA-256 of the event's canonical encoding,
///   the same value the reference conductor returns (see ``eventHash(of:)``), so the same content
///   always gets the same hash;
/// - a batch is all-or-nothing: one receipt per event in request order, or an error and nothing
///   applied;
/// - ``health(service:options:)`` answers ``healthStatus``.
///
/// Tests can make calls of a method misbehave — slow, hanging, failing in a pattern, losing
/// replies (``inject(_:into:when:)``, ``failNext(_:times:code:message:)``) — and read what was
/// applied (``appliedEvents``). Called directly there are no retries and no circuit breaker: a
/// failure surfaces exactly as injected, and a call's ``ConductorCallOptions/timeout`` bounds only
/// an injected delay or hang. To run the real ``ConductorClient`` — pool, retries, breaker,
/// deadlines, cache — against it, with no network, use
/// ``ConductorClient/init(configuration:connectingTo:logger:metricsFactory:interceptors:tracer:)``.
/// Metadata is accepted and ignored. Proofs stay cached until a ``ConductorCachePolicy/reload`` (no
/// TTL, and NOT_FOUND is not remembered). Errors name the endpoint `in-memory`.
///
/// ```swift
/// let conductor = InMemoryConductor()
/// let service: any ConductorService = conductor
/// let receipt = try await service.submit(ConductorEvent(eventType: "message.created", epoch: 7))
/// #expect(conductor.appliedEvents.map(\.receipt) == [receipt])
/// ```
public final class InMemoryConductor: ConductorService {
    /// The endpoint named in the errors of the in-memory conductor.
    public static let endpointName = "in-memory"

    struct State {
        var healthStatus: ServingStatus
        var applied: [AppliedEvent] = []
        var injectedFailures: [ConductorMethod: [ConductorError]] = [:]
        var faults: [ConductorMethod: [InjectedFault]] = [:]
        var refusesConnections = false
        var callCounts: [ConductorMethod: Int] = [:]
        var servedProofs: [Int32: DayProof] = [:]
        var isShutDown = false
    }

    private let dayProofs: @Sendable (Int32) -> DayProof?
    private let state: Locked<State>
    private let metrics: ConductorMetrics

    /// Creates a conductor whose day proofs come from `dayProofs`: it returns the proof for a day,
    /// or nil for a day without one (answered with `NOT_FOUND`). It is called on every
    /// ``dayProof(_:options:)``, from any task.
    ///
    /// - Parameters:
    ///   - healthStatus: what ``health(service:options:)`` answers until ``healthStatus`` is changed.
    ///   - dayProofs: the proofs; by default the reference conductor's (``referenceDayProofs()``).
    ///   - metricsFactory: where the `bridge_conductor_*` request, latency and cache metrics go (the
    ///     same as ``ConductorClient``'s, so dashboards work in development); `nil` means the
    ///     backend bootstrapped with `MetricsSystem.bootstrap`.
    public init(
        healthStatus: ServingStatus = .serving,
        dayProofs: @escaping @Sendable (Int32) -> DayProof? = InMemoryConductor.referenceDayProofs(),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.dayProofs = dayProofs
        self.state = Locked(State(healthStatus: healthStatus))
        self.metrics = ConductorMetrics(factory: metricsFactory ?? MetricsSystem.factory)
    }

    /// Creates a conductor that knows exactly the given days (see ``makeDayProof(_:proof:canonical:)``);
    /// every other day is `NOT_FOUND`.
    public convenience init(dayProofs: [Int32: DayProof], healthStatus: ServingStatus = .serving) {
        self.init(healthStatus: healthStatus, dayProofs: { dayProofs[$0] })
    }

    // MARK: - ConductorService

    /// The proof for `day`, or `NOT_FOUND` "no proof for day <d>". With ``ConductorCachePolicy/useCache``
    /// a day served before gets the same proof again without a call (as from ``ConductorClient``'s
    /// cache: no failure injection, not counted by ``callCount(_:)``); ``ConductorCachePolicy/reload``
    /// always asks the day-proof provider.
    nonisolated(nonsending)
    public func dayProof(
        _ day: Int32,
        options: ConductorCallOptions = ConductorCallOptions()
    ) async throws(ConductorError) -> DayProof {
        if options.cachePolicy == .useCache {
            if let cached = state.withLock({ $0.servedProofs[day] }) {
                metrics.cacheHits.increment()
                return cached
            }
            metrics.cacheMisses.increment()
        }
        return try await recorded(.getDayProof, options: options) { () throws(ConductorError) in try proof(for: day) }
    }

    /// Applies one event and returns its receipt: the event's content hash and epoch.
    public func submit(_ event: ConductorEvent, options: ConductorCallOptions = ConductorCallOptions()) async throws(ConductorError) -> ConductorReceipt {
        try await recorded(.submitEvent, options: options) { () throws(ConductorError) in apply(event) }
    }

    /// Applies every event in one step and returns one receipt per event, in order; a failing
    /// batch applies nothing.
    public func submit(batch events: [ConductorEvent], options: ConductorCallOptions = ConductorCallOptions()) async throws(ConductorError) -> [ConductorReceipt] {
        try await recorded(.submitEventsBatch, options: options) { () throws(ConductorError) in apply(batch: events) }
    }

    /// ``healthStatus``, whatever `service` is (as the reference conductor's HealthCheck).
    public func health(service: String = "", options: ConductorCallOptions = ConductorCallOptions()) async throws(ConductorError) -> ServingStatus {
        try await recorded(.healthCheck, options: options) { () throws(ConductorError) in healthStatus }
    }

    /// As a `Service`: waits for graceful shutdown (or cancellation), then shuts down, so that
    /// `CONDUCTOR_MODE=memory` runs in a `ServiceGroup` like ``ConductorClient``.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Refuses every later call with ``ConductorError/Kind/shutDown``, like ``ConductorClient/shutdown()``.
    /// Calls held by an injected delay or hang are not cut off: they end at their timeout, when
    /// cancelled, or (a delay) when it is over.
    public func shutdown() async {
        state.withLock { $0.isShutDown = true }
    }

    // MARK: - Test controls

    /// What ``health(service:options:)`` answers; settable at any time.
    public var healthStatus: ServingStatus {
        get { state.withLock { $0.healthStatus } }
        set { state.withLock { $0.healthStatus = newValue } }
    }

    /// Every event applied so far, in the order applied. A repeated submit of the same content is
    /// recorded again (with the same receipt), as the reference conductor counts it again.
    public var appliedEvents: [AppliedEvent] {
        state.withLock { $0.applied }
    }

    /// How many calls of `method` reached the conductor, failed ones included (day proofs answered
    /// from the cache are not calls).
    public func callCount(_ method: ConductorMethod) -> Int {
        state.withLock { $0.callCounts[method, default: 0] }
    }

    /// Makes the next `times` calls of `method` fail with `code`, before they have any effect (a
    /// failed submit or batch applies nothing). Failures queue up behind those already injected.
    ///
    /// - Parameters:
    ///   - method: the method whose calls fail.
    ///   - times: how many calls fail.
    ///   - code: the gRPC status; its ``ConductorError/kind`` and ``ConductorError/isRetryable``
    ///     are what ``ConductorClient`` would report for the same status.
    ///   - message: the status message; by default `injected <CODE>`, as the reference conductor's `--error`.
    public func failNext(_ method: ConductorMethod, times: Int = 1, code: ConductorError.Code, message: String? = nil) {
        let error = Self.error(method, code: code, message: message ?? "injected \(code.name)")
        failNext(method, times: times, with: error)
    }

    /// Makes the next `times` calls of `method` throw `error` as given.
    public func failNext(_ method: ConductorMethod, times: Int = 1, with error: ConductorError) {
        guard times > 0 else { return }
        state.withLock { $0.injectedFailures[method, default: []] += repeatElement(error, count: times) }
    }

    /// Makes the calls of `method` that `pattern` picks misbehave as `fault` says, from now on.
    ///
    /// Patterns count the calls of `method` since the fault's injection. Several faults of one
    /// method are checked in the order injected and the first that picks a call applies to it;
    /// failures queued by ``failNext(_:times:code:message:)`` come before any of them.
    ///
    /// ```swift
    /// conductor.inject(.fail(.unavailable), into: .getDayProof, when: .every(3)) // calls 3, 6, 9…
    /// conductor.inject(.hang, into: .submitEvent, when: .next(1))              // until the deadline
    /// ```
    public func inject(_ fault: ConductorFault, into method: ConductorMethod, when pattern: ConductorFaultPattern = .always) {
        state.withLock { $0.faults[method, default: []].append(InjectedFault(fault: fault, pattern: pattern)) }
    }

    /// Removes every fault injected into `method` (every method's when nil), and the failures
    /// queued by ``failNext(_:times:code:message:)``.
    public func removeFaults(from method: ConductorMethod? = nil) {
        state.withLock { state in
            if let method {
                state.faults[method] = nil
                state.injectedFailures[method] = nil
            } else {
                state.faults = [:]
                state.injectedFailures = [:]
            }
        }
    }

    /// Whether connections from a ``ConductorClient`` made with
    /// ``ConductorClient/init(configuration:connectingTo:logger:metricsFactory:interceptors:tracer:)``
    /// are refused (as by a conductor that is down); settable at any time. Connections already
    /// open are not affected.
    public var refusesConnections: Bool {
        get { state.withLock { $0.refusesConnections } }
        set { state.withLock { $0.refusesConnections = newValue } }
    }

    /// The hash the in-memory conductor (and the reference conductor) gives `event`: 64 lower-case
    /// hex digits of SHA-256 over the event's canonical encoding (type, epoch, payload, and the
    /// metadata in key order, each length-prefixed). Equal content gives an equal hash, whatever
    /// the metadata's order.
    public static func eventHash(of event: ConductorEvent) -> String {
        event.contentHash
    }

    // MARK: - Private

    /// Runs one direct call and records its request and latency metrics (cancelled and shut-down
    /// calls included, as the remote client does).
    private func recorded<Value>(
        _ method: ConductorMethod,
        options: ConductorCallOptions,
        _ body: () throws(ConductorError) -> Value
    ) async throws(ConductorError) -> Value {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let value = try await serve(method, deadline: options.timeout, body).value(method: method, deadline: options.timeout)
            metrics.request(method, code: .ok, circuitOpen: false, duration: start.duration(to: clock.now))
            return value
        } catch {
            metrics.request(method, code: error.code, circuitOpen: false, duration: start.duration(to: clock.now))
            throw error
        }
    }

    /// One call of `method`: counted, then refused (shut down, cancelled, a queued failure) or
    /// performed under its fault, if one picks it; `body` is the call's effect and answer.
    func serve<Value>(
        _ method: ConductorMethod,
        deadline: Duration?,
        _ body: () throws(ConductorError) -> Value
    ) async -> CallOutcome<Value> {
        let fault: ConductorFault?
        do {
            fault = try begin(method)
        } catch {
            return .failed(error)
        }
        return await perform(method, under: fault, deadline: deadline, body)
    }

    /// Counts the call and throws when the conductor is shut down, the task is cancelled, or a
    /// failure was queued for `method`; returns the injected fault that picks this call, if any.
    private func begin(_ method: ConductorMethod) throws(ConductorError) -> ConductorFault? {
        if Task.isCancelled {
            throw ConductorError(kind: .cancelled, code: .cancelled, message: "the call was cancelled",
                                 method: method, endpoint: Self.endpointName)
        }
        let (failure, fault) = state.withLock { state -> (ConductorError?, ConductorFault?) in
            if state.isShutDown {
                return (ConductorError(kind: .shutDown, code: .unavailable, message: "the in-memory conductor has been shut down",
                                       method: method, endpoint: Self.endpointName), nil)
            }
            state.callCounts[method, default: 0] += 1
            let fault = state.pickFault(for: method) // counted for the patterns even when a queued failure wins
            if var queue = state.injectedFailures[method], !queue.isEmpty {
                let next = queue.removeFirst()
                state.injectedFailures[method] = queue.isEmpty ? nil : queue
                return (next, nil)
            }
            return (nil, fault)
        }
        if let failure { throw failure }
        return fault
    }

    /// Performs `body` as `fault` says; a wait (delay or hang) ends at `deadline` or on cancellation.
    private func perform<Value>(
        _ method: ConductorMethod,
        under fault: ConductorFault?,
        deadline: Duration?,
        _ body: () throws(ConductorError) -> Value
    ) async -> CallOutcome<Value> {
        switch fault {
        case nil:
            break
        case .delay(let delay):
            if let early: CallOutcome<Value> = await Self.wait(delay, deadline: deadline) { return early }
        case .hang:
            if let early: CallOutcome<Value> = await Self.wait(nil, deadline: deadline) { return early }
        case .fail(let code, let message):
            return .failed(Self.error(method, code: code, message: message ?? "injected \(code.name)"))
        case .loseReply:
            _ = try? body()
            return .replyLost
        }
        do {
            return .answered(try body())
        } catch {
            return .failed(error)
        }
    }

    /// Waits `delay` (forever when nil); returns the outcome that ended the wait early, if any.
    private static func wait<Value>(_ delay: Duration?, deadline: Duration?) async -> CallOutcome<Value>? {
        let limit = [delay, deadline].compactMap(\.self).min()
        do {
            if let limit {
                try await Task.sleep(for: limit)
            } else {
                while true { try await Task.sleep(for: .seconds(3_600)) }
            }
        } catch {
            return .cancelled
        }
        return limit == delay ? nil : .deadlinePassed
    }

    /// The proof for `day`, remembered for ``ConductorCachePolicy/useCache``.
    func proof(for day: Int32) throws(ConductorError) -> DayProof {
        guard let proof = dayProofs(day) else {
            throw Self.error(.getDayProof, code: .notFound, message: "no proof for day \(day)")
        }
        state.withLock { $0.servedProofs[day] = proof }
        return proof
    }

    /// Applies one event.
    func apply(_ event: ConductorEvent) -> ConductorReceipt {
        let applied = AppliedEvent(event: event, receipt: Self.receipt(for: event), method: .submitEvent)
        state.withLock { $0.applied.append(applied) }
        return applied.receipt
    }

    /// Applies a batch in one step.
    func apply(batch events: [ConductorEvent]) -> [ConductorReceipt] {
        let applied = events.map { AppliedEvent(event: $0, receipt: Self.receipt(for: $0), method: .submitEventsBatch) }
        state.withLock { $0.applied += applied }
        return applied.map(\.receipt)
    }

    private static func receipt(for event: ConductorEvent) -> ConductorReceipt {
        ConductorReceipt(eventHash: event.contentHash, epoch: event.epoch)
    }

    /// An error shaped like the one ``ConductorClient`` reports for the same status after one attempt.
    static func error(_ method: ConductorMethod, code: ConductorError.Code, message: String) -> ConductorError {
        let kind: ConductorError.Kind = switch code {
        case .deadlineExceeded: .deadlineExceeded
        case .cancelled: .cancelled
        default: .rpcFailed
        }
        let retryable = [.unavailable, .resourceExhausted, .aborted, .deadlineExceeded].contains(code)
        return ConductorError(kind: kind, code: code, message: message, method: method, endpoint: endpointName,
                              attempts: 1, isRetryable: retryable)
    }
}
