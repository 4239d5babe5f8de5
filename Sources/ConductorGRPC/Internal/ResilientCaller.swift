import GRPCWire
import BridgeResilience
import Logging
import LockedState

/// Runs one unary call to completion: one deadline for the whole call, a stream from the pool
/// (whose picker honours each endpoint's circuit breaker and health), the exchange, and retries
/// with full-jitter backoff within the endpoint's retry budget, preferring another endpoint for
/// each retry. What is retryable and how long to wait is decided in BridgeResilience and
/// ``AttemptFailure``; this type only wires them to the pool.
///
/// Refused streams: a stream the server refused while others were open on that connection is
/// sent again once one of them closes (the pool parks it); such refusals use none of the call's
/// attempts, only its deadline. A refusal with nothing else open, a stream above a GOAWAY's
/// last-stream-id, or a request that never left is a transparent retry, at most
/// ``RetryPolicy/maxTransparentRetries`` times, then an ordinary retryable failure.
final class ResilientCaller: Sendable {
    let pool: ChannelPool
    let policy: RetryPolicy
    let configuration: ConductorConfiguration
    let logger: Logger

    init(pool: ChannelPool, policy: RetryPolicy, configuration: ConductorConfiguration, logger: Logger) {
        self.pool = pool
        self.policy = policy
        self.configuration = configuration
        self.logger = logger
    }

    private var clock: any CallClock { pool.clock }

    /// The clock's time, read out of line: read inline, the clock (an existential) took a slot in
    /// the async frames of `call` and `attempts`, which every call in flight keeps.
    @inline(never)
    private func now() -> MonotonicInstant { clock.now() }

    /// What one call sends besides its body.
    struct Request: Sendable {
        var method: ConductorMethod
        var safety: CallSafety
        var timeout: Duration?
        var metadata: GRPCMetadata
        /// Keep the response headers gRPC does not read (the caller asked for them).
        var keepsResponseHeaders: Bool
        /// Told of each attempt and retry (the call's trace span); nil when nobody listens.
        var onEvent: (@Sendable (CallEvent) -> Void)? = nil
        /// The caller's logger for this call; nil: the client's.
        var logger: Logger? = nil
    }

    /// What happened inside a call, for its trace span.
    enum CallEvent: Sendable {
        /// Attempt `number` (from 1) went to `endpoint`.
        case attempt(number: Int, endpoint: ConductorEndpoint)
        /// The call will be sent again after `delay`, because of `reason` (a status name, `refused_stream`, `not_processed`).
        case retry(reason: String, delay: Duration)
        /// The attempt was not answered within the hedge delay: it went to `endpoint` as well.
        case hedge(endpoint: ConductorEndpoint)
    }

    /// What answered a call.
    struct Answer: Sendable {
        var message: [UInt8]
        var endpoint: ConductorEndpoint
        var attempts: Int
        var headers: [(name: String, value: String)]
        var trailers: [(name: String, value: String)]
    }

    /// Performs the request with the framed `body`.
    func call(_ request: Request, body: [UInt8]) async throws(ConductorError) -> Answer {
        let method = request.method
        let started = now()
        do {
            let message = try await attempts(request, body: body, started: started)
            pool.metrics.request(method, code: .ok, circuitOpen: false, duration: started.duration(to: now()))
            return message
        } catch {
            pool.metrics.request(method, code: error.code, circuitOpen: error.kind == .circuitOpen, duration: started.duration(to: now()))
            throw error
        }
    }

    private func attempts(
        _ request: Request,
        body: [UInt8],
        started: MonotonicInstant
    ) async throws(ConductorError) -> Answer {
        let method = request.method
        let callTimeout = min(request.timeout ?? configuration.timeout, configuration.timeout)
        let deadline = started + callTimeout
        var attempts = 0
        var freeRefusals = 0
        var transparentRetries = 0
        var previous: PoolEndpoint?
        while true {
            guard now() < deadline else {
                throw Self.deadlineExceeded(callTimeout, method: method, previous: previous, attempts: attempts)
            }
            let lease: ChannelPool.Lease
            do {
                lease = try await pool.checkout(.init(method: method, deadline: deadline, avoiding: previous?.key))
            } catch {
                throw Self.checkoutFailed(error, previous: previous, attempts: attempts)
            }
            attempts += 1
            switch await attempt(number: attempts, request, body: body, on: lease, deadline: deadline, answeredBy: &previous,
                                 freeRefusals: &freeRefusals, transparentRetries: &transparentRetries) {
            case .answer(let answer):
                return answer
            case .fail(let error):
                throw error
            case .retry(let delay):
                if delay > .zero { try await wait(delay, toRetry: method, after: previous, attempts: attempts) }
            }
        }
    }

    // The errors `attempts` throws, built out of line: an async function's frame holds every
    // local that lives across any of its awaits, and each error built inside it took frame space
    // that every call in flight kept.

    @inline(never)
    private static func deadlineExceeded(_ callTimeout: Duration, method: ConductorMethod, previous: PoolEndpoint?,
                                         attempts: Int) -> ConductorError {
        ConductorError(kind: .deadlineExceeded, code: .deadlineExceeded,
                       message: "deadline of \(callTimeout) exceeded before attempt \(attempts + 1)",
                       method: method, endpoint: previous?.endpoint.description, attempts: attempts, isRetryable: true)
    }

    @inline(never)
    private static func checkoutFailed(_ error: ConductorError, previous: PoolEndpoint?, attempts: Int) -> ConductorError {
        var error = error
        error.attempts = attempts
        if error.endpoint == nil { error.endpoint = previous?.endpoint.description }
        return error
    }

    /// The backoff before a retry. Never inlined: the system clock's sleep, inlined, put its
    /// state into `attempts`' async frame.
    @inline(never)
    private func wait(_ delay: Duration, toRetry method: ConductorMethod, after previous: PoolEndpoint?, attempts: Int)
        async throws(ConductorError) {
        do { try await clock.sleep(until: clock.now() + delay) } catch {
            throw ConductorError(kind: .cancelled, code: .cancelled, message: "call cancelled while waiting to retry",
                                 method: method, endpoint: previous?.endpoint.description, attempts: attempts)
        }
    }

    /// Attempt `number` on `lease` (also sent elsewhere after ``ConductorConfiguration/hedgeDelay``
    /// when that is set), and what follows it; `endpoint` becomes the endpoint that answered.
    /// Never inlined: the response and the lease it came on stay out of `attempts`' async frame,
    /// which every call keeps, also while it waits for a stream.
    @inline(never)
    private func attempt(
        number: Int,
        _ request: Request,
        body: [UInt8],
        on lease: ChannelPool.Lease,
        deadline: MonotonicInstant,
        answeredBy endpoint: inout PoolEndpoint?,
        freeRefusals: inout Int,
        transparentRetries: inout Int
    ) async -> Next {
        request.onEvent?(.attempt(number: number, endpoint: lease.endpoint.endpoint))
        if let hedgeDelay = configuration.hedgeDelay, request.method == .getDayProof {
            return await hedgedAttempt(number: number, request, body: body, on: lease, after: hedgeDelay, deadline: deadline,
                                       answeredBy: &endpoint, freeRefusals: &freeRefusals, transparentRetries: &transparentRetries)
        }
        let response = await exchange(request, body: body, on: lease, timeout: clock.now().duration(to: deadline),
                                      previousAttempts: number - 1)
        endpoint = lease.endpoint
        return assess(response, on: lease, request, deadline: deadline, attempts: number,
                      freeRefusals: &freeRefusals, transparentRetries: &transparentRetries)
    }

    /// ``attempt(number:_:body:on:deadline:answeredBy:freeRefusals:transparentRetries:)`` with a
    /// hedge; never inlined, so that unhedged attempts do not carry its locals in their frames.
    @inline(never)
    private func hedgedAttempt(
        number: Int,
        _ request: Request,
        body: [UInt8],
        on lease: ChannelPool.Lease,
        after hedgeDelay: Duration,
        deadline: MonotonicInstant,
        answeredBy endpoint: inout PoolEndpoint?,
        freeRefusals: inout Int,
        transparentRetries: inout Int
    ) async -> Next {
        let (response, answered) = await hedgedExchange(request, body: body, on: lease, after: hedgeDelay, deadline: deadline,
                                                        previousAttempts: number - 1)
        endpoint = answered.endpoint
        return assess(response, on: answered, request, deadline: deadline, attempts: number,
                      freeRefusals: &freeRefusals, transparentRetries: &transparentRetries)
    }

    /// What follows an attempt.
    private enum Next {
        case answer(Answer)
        /// Send the call again after the delay (zero: at once).
        case retry(after: Duration)
        case fail(ConductorError)
    }

    /// Checks the attempt's stream in and decides what follows: its answer, a retry (counted in
    /// the metrics, the trace and the log), or the call's error.
    ///
    /// Synchronous and never inlined on purpose: an async function's frame keeps every local that
    /// lives across any of its awaits, and this is most of `attempts`' locals (measured with massif:
    /// 3 KB less per call in flight than with this code inside `attempts`).
    @inline(never)
    private func assess(
        _ response: GRPCUnaryResponse,
        on lease: ChannelPool.Lease,
        _ request: Request,
        deadline: MonotonicInstant,
        attempts: Int,
        freeRefusals: inout Int,
        transparentRetries: inout Int
    ) -> Next {
        let method = request.method
        let endpoint = lease.endpoint
        let wireFailure: GRPCUnaryResponse.Failure
        switch response.result {
        case .success(let message):
            pool.checkin(lease, outcome: .success)
            endpoint.budget.recordSuccess()
            return .answer(Answer(message: message, endpoint: endpoint.endpoint, attempts: attempts, headers: response.headers,
                                  trailers: response.trailers))
        case .failure(let failure):
            wireFailure = failure
        }
        if wireFailure.status.code == .cancelled && Task.isCancelled {
            pool.checkin(lease, outcome: .ignored)
            return .fail(AttemptFailure(wireFailure, trailers: response.trailers, callDeadlinePassed: false)
                .error(method: method, endpoint: endpoint.endpoint.description, attempts: attempts, cancelledByCaller: true))
        }
        let timeLeft = clock.now().duration(to: deadline)
        let failure = AttemptFailure(wireFailure, trailers: response.trailers, callDeadlinePassed: timeLeft <= .zero)
        let othersOpen = pool.checkin(lease, outcome: failure.breakerOutcome, refused: failure.refusedStream)
        if failure.refusedStream && othersOpen {
            freeRefusals += 1 // the pool parks the call until a stream of that connection closes
            pool.metrics.retry(method, reason: "refused_stream")
            request.onEvent?(.retry(reason: "refused_stream", delay: .zero))
            return .retry(after: .zero)
        }
        let decision = policy.decision(
            after: failure.retryClass, safety: request.safety, attempts: attempts - freeRefusals,
            transparentRetries: transparentRetries, timeRemaining: timeLeft, pushback: failure.pushback,
            budget: failure.drawsOnBudget ? endpoint.budget : nil)
        switch decision {
        case .retry(let delay, let transparent):
            guard !pool.isShutDown else {
                var finalError = failure.error(method: method, endpoint: endpoint.endpoint.description, attempts: attempts)
                finalError.kind = .shutDown
                finalError.message += " (not retried: the client is shutting down)"
                return .fail(finalError)
            }
            if transparent { transparentRetries += 1 }
            let reason = transparent ? "not_processed" : failure.status.code.name
            pool.metrics.retry(method, reason: reason)
            request.onEvent?(.retry(reason: reason, delay: delay))
            (request.logger ?? logger).debug("retrying", metadata: [
                "method": "\(method.rawValue)", "endpoint": "\(endpoint.endpoint)", "attempt": "\(attempts)",
                "status": "\(failure.status)", "delay": "\(delay)",
            ])
            return .retry(after: delay)
        case .stop(let reason):
            var finalError = failure.error(method: method, endpoint: endpoint.endpoint.description, attempts: attempts)
            if reason == .budgetExhausted {
                finalError.message += " (retry budget exhausted: the conductor is failing too often to retry)"
            }
            return .fail(finalError)
        }
    }

    /// One attempt that is also sent to a second endpoint when it has not been answered after
    /// `delay` (a hedge): the first success wins and the other stream is reset (its lease is checked
    /// in here, as not telling anything about its endpoint; an attempt that failed on its own is
    /// checked in with its failure). Returns the answer and the lease it came on — when both failed,
    /// the first attempt's, whose failure the retry rules then judge. A hedge is sent only while the
    /// endpoint's retry budget allows a retry (it costs a token), to another endpoint whose breaker
    /// admits it and that has a free stream now; when the first attempt ends before the hedge went,
    /// the hedge does not go.
    ///
    /// Never inlined: inlined into `attempts`, its locals made every call's async frame 3.2 KB
    /// larger, hedged or not (a frame holds every local that lives across an await).
    @inline(never)
    private func hedgedExchange(
        _ request: Request,
        body: [UInt8],
        on primary: ChannelPool.Lease,
        after delay: Duration,
        deadline: MonotonicInstant,
        previousAttempts: Int
    ) async -> (GRPCUnaryResponse, ChannelPool.Lease) {
        typealias Outcome = (response: GRPCUnaryResponse, lease: ChannelPool.Lease, isHedge: Bool)
        // Whether the hedge went, and whether it may still go (not once the primary failed).
        let hedgeState = Locked((sent: false, suppressed: false))
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { [self] in
                (await exchange(request, body: body, on: primary, timeout: clock.now().duration(to: deadline),
                                previousAttempts: previousAttempts), primary, false)
            }
            group.addTask { [self] in
                do { try await clock.sleep(until: clock.now() + delay) } catch { return nil }
                let hedge = await hedgeLease(request, excluding: primary, deadline: deadline)
                let goes = hedgeState.withLock { state -> Bool in
                    guard hedge != nil, !state.suppressed else { return false }
                    state.sent = true
                    return true
                }
                guard goes, let hedge else {
                    if let hedge { pool.checkin(hedge, outcome: .ignored) }
                    pool.metrics.hedgesNotSent.increment()
                    return nil
                }
                primary.endpoint.budget.recordFailure() // a hedge spends a token, as a retry does
                pool.metrics.hedges.increment()
                request.onEvent?(.hedge(endpoint: hedge.endpoint.endpoint))
                return (await exchange(request, body: body, on: hedge, timeout: clock.now().duration(to: deadline),
                                       previousAttempts: previousAttempts), hedge, true)
            }
            var primaryFailure: Outcome?
            var hedgeFailure: Outcome?
            while let finished = await group.next() {
                guard let outcome = finished else { continue } // the hedge did not go
                if case .success = outcome.response.result {
                    hedgeState.withLock { $0.suppressed = true } // a hedge not sent yet does not go now
                    group.cancelAll() // the other stream is reset
                    for await other in group { if let other { pool.checkin(other.lease, outcome: .ignored) } }
                    if let failed = primaryFailure ?? hedgeFailure { checkinFailed(failed.response, on: failed.lease) }
                    if outcome.isHedge { pool.metrics.hedgeWins.increment() }
                    return (outcome.response, outcome.lease)
                }
                if outcome.isHedge {
                    hedgeFailure = outcome
                } else {
                    primaryFailure = outcome
                    let hedgeWent = hedgeState.withLock { state -> Bool in
                        if !state.sent { state.suppressed = true }
                        return state.sent
                    }
                    if !hedgeWent { group.cancelAll() } // the retry rules take it from here
                }
            }
            // Neither succeeded: the primary's failure is the attempt's.
            if let hedgeFailure { checkinFailed(hedgeFailure.response, on: hedgeFailure.lease) }
            guard let primaryFailure else { preconditionFailure("the primary attempt always ends with an outcome") }
            return (primaryFailure.response, primaryFailure.lease)
        }
    }

    /// Checks in an attempt of a hedged call that failed on its own (not reset because the other
    /// won) as what it tells about its endpoint: its breaker sees the failure as for any attempt.
    private func checkinFailed(_ response: GRPCUnaryResponse, on lease: ChannelPool.Lease) {
        guard case .failure(let wireFailure) = response.result else { return }
        let failure = AttemptFailure(wireFailure, trailers: response.trailers, callDeadlinePassed: false)
        pool.checkin(lease, outcome: failure.breakerOutcome, refused: failure.refusedStream)
    }

    /// A lease for a hedge: only while the budget would allow a retry, on another endpoint whose
    /// breaker admits it, with a free stream now.
    private func hedgeLease(_ request: Request, excluding primary: ChannelPool.Lease, deadline: MonotonicInstant) async
        -> ChannelPool.Lease? {
        guard primary.endpoint.budget.canRetry else { return nil }
        return try? await pool.checkout(.init(method: request.method, deadline: deadline, avoiding: nil,
                                              excluding: primary.endpoint.key, takesOnlyAFreeStream: true))
    }

    /// Never inlined: its locals (the request's header block, the raw stream's answer) would sit
    /// in `attempts`' async frame, which every call keeps, also while it waits for a stream.
    @inline(never)
    private func exchange(
        _ request: Request,
        body: [UInt8],
        on lease: ChannelPool.Lease,
        timeout: Duration,
        previousAttempts: Int
    ) async -> GRPCUnaryResponse {
        let headers = lease.endpoint.requestHeads.headers(path: request.method.path, timeout: timeout,
                                                          previousAttempts: previousAttempts, metadata: request.metadata)
        let stream = await lease.connection.exchange(
            headers: headers, body: body, timeout: timeout,
            maximumResponseBytes: configuration.maxReceiveMessageBytes + GRPCMessageFramer.prefixLength,
            keepingAllHeaders: request.keepsResponseHeaders)
        return GRPCResponseInterpreter.interpret(stream, maximumMessageLength: configuration.maxReceiveMessageBytes)
    }
}
