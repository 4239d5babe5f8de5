import BridgeResilience
import LockedState
import Logging

/// The client's connections: `connectionsPerEndpoint` HTTP/2 connections to every endpoint
/// address, opened lazily and replaced when they drain (GOAWAY) or fail.
///
/// Picking a connection for a call: among endpoints that serve (health checks) and whose breaker
/// admits the call, and connections that are connecting or ready with a free stream (under the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS), the less busy of two random candidates wins
/// ("power of two choices"); a retry avoids the endpoint of the failed attempt when another one
/// can take it. A connection that failed to connect is skipped until its reconnect backoff
/// (gRPC connection backoff) has passed. When every connection is full the call waits in a
/// bounded queue; when every endpoint is unreachable, open or not serving, it fails at once.
final class ChannelPool: Sendable {
    private let state: Locked<PoolState>
    private let configuration: ConductorConfiguration
    private let baseOptions: HTTP2Connection.Options
    private let tls: TLSContext?
    private let clock = SystemResilienceClock()
    private let logger: Logger
    let metrics: ConductorMetrics
    /// Set when a connection to some endpoint is lost, so that DNS names are resolved again soon.
    let lossSignal = Locked(false)

    init(addresses: [ConductorEndpoint], configuration: ConductorConfiguration, tls: TLSContext?, logger: Logger,
         metrics: ConductorMetrics) {
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
        self.metrics = metrics
        var options = HTTP2Connection.Options()
        options.keepaliveTimeout = configuration.keepaliveTimeout
        // A 4 MiB message must not wait for window updates; the response limit bounds memory.
        options.streamWindowBytes = max(4 << 20, configuration.maxReceiveMessageBytes + 1024)
        options.connectionWindowBytes = max(16 << 20, options.streamWindowBytes)
        baseOptions = options
        var initial = PoolState()
        initial.keepaliveInterval = configuration.keepaliveInterval
        state = Locked(initial)
        updateAddresses(addresses)
        // dns:/// names are resolved in the background: calls wait for the first answer.
        if addresses.count != configuration.endpoints.count {
            state.withLock { $0.awaitingAddresses = true }
        }
    }

    // MARK: Calls

    /// A connection for one call, with the endpoint breaker's permit.
    func checkout(avoiding: PoolEndpoint?, deadline: MonotonicInstant, method: ConductorMethod) async throws(ConductorError) -> PoolLease {
        let immediate = state.withLock { state in pick(&state, avoiding: avoiding?.key, method: method, mayWait: true) }
        switch immediate {
        case .lease(let lease): return lease
        case .failure(let error): throw error
        case .wait: break
        }
        return try await waitForLease(avoiding: avoiding?.key, deadline: deadline, method: method).get()
    }

    /// Returns a call's connection to the pool.
    func checkin(_ lease: PoolLease, failed: Bool) {
        let resumed = state.withLock { state -> [(PoolState.Waiter, Result<PoolLease, ConductorError>)] in
            if let index = state.endpoints.firstIndex(where: { $0.shared.key == lease.endpoint.key }) {
                state.endpoints[index].slots[lease.slot].outstanding -= 1
                state.endpoints[index].slots[lease.slot].calls += 1
                if failed { state.endpoints[index].slots[lease.slot].failures += 1 }
            }
            return state.waiters.isEmpty ? [] : serviceWaiters(&state)
        }
        resume(resumed)
    }

    // MARK: Endpoints

    /// Replaces the set of endpoint addresses (after a DNS resolution): new addresses are added,
    /// vanished ones drained; addresses that stay keep their connections, breaker and budget.
    func updateAddresses(_ addresses: [ConductorEndpoint]) {
        var resumed: [(PoolState.Waiter, Result<PoolLease, ConductorError>)] = []
        let retired = state.withLock { state -> [HTTP2Connection] in
            defer {
                state.awaitingAddresses = false
                resumed = serviceWaiters(&state)
            }
            var kept: [PoolState.Endpoint] = []
            for address in addresses {
                if let existing = state.endpoints.first(where: { $0.shared.endpoint == address }) {
                    kept.append(existing)
                } else {
                    let shared = PoolEndpoint(key: state.nextEndpointKey, endpoint: address, configuration: configuration,
                                              tls: tls, logger: logger, metrics: metrics)
                    state.nextEndpointKey += 1
                    kept.append(PoolState.Endpoint(shared: shared, slots: Array(repeating: PoolState.Slot(), count: configuration.connectionsPerEndpoint)))
                }
            }
            let removed = state.endpoints.filter { old in !kept.contains { $0.shared.key == old.shared.key } }
            state.endpoints = kept
            metrics.poolSize(kept.count * configuration.connectionsPerEndpoint)
            return removed.flatMap { $0.slots.compactMap(\.connection) }
        }
        for connection in retired { connection.shutdown() }
        resume(resumed)
    }

    /// The endpoints now in the pool.
    var endpoints: [PoolEndpoint] {
        state.withLock { $0.endpoints.map(\.shared) }
    }

    /// Takes an endpoint out of rotation (NOT_SERVING) or puts it back.
    func setServing(_ serving: Bool, endpointKey: Int) {
        let resumed = state.withLock { state -> [(PoolState.Waiter, Result<PoolLease, ConductorError>)] in
            guard let index = state.endpoints.firstIndex(where: { $0.shared.key == endpointKey }),
                  state.endpoints[index].serving != serving else { return [] }
            state.endpoints[index].serving = serving
            let endpoint = state.endpoints[index].shared.endpoint
            if serving {
                logger.notice("endpoint serves again", metadata: ["endpoint": "\(endpoint)"])
            } else {
                logger.warning("endpoint reports NOT_SERVING; taken out of rotation", metadata: ["endpoint": "\(endpoint)"])
            }
            metrics.endpointHealth(serving, endpoint: endpoint.description)
            return serviceWaiters(&state)
        }
        resume(resumed)
    }

    /// A connection to `endpointKey` for a health check, opened if needed; nil if the endpoint is
    /// gone or cannot be connected to now.
    func healthCheckConnection(endpointKey: Int) -> HTTP2Connection? {
        state.withLock { state in
            guard let index = state.endpoints.firstIndex(where: { $0.shared.key == endpointKey }) else { return nil }
            let now = clock.now()
            guard let slot = state.endpoints[index].slots.indices.first(where: { state.endpoints[index].slots[$0].accepts(at: now) })
            else { return nil }
            return connection(&state, endpoint: index, slot: slot)
        }
    }

    // MARK: Shutdown and statistics

    /// Fails waiting calls, stops new streams, closes every connection once its calls finish.
    func shutdown() {
        let (connections, waiters) = state.withLock { state -> ([HTTP2Connection], [PoolState.Waiter]) in
            state.shuttingDown = true
            var connections: [HTTP2Connection] = []
            for e in state.endpoints.indices {
                for s in state.endpoints[e].slots.indices {
                    if let connection = state.endpoints[e].slots[s].connection { connections.append(connection) }
                    state.endpoints[e].slots[s].connection = nil
                    state.endpoints[e].slots[s].state = .shutdown
                }
            }
            defer { state.waiters = [] }
            return (connections, state.waiters)
        }
        for connection in connections { connection.shutdown() }
        for waiter in waiters {
            waiter.continuation.resume(returning: .failure(ConductorError(
                kind: .shutDown, code: .unavailable, message: "the client was shut down while the call waited for a connection",
                method: waiter.method)))
        }
    }

    /// A snapshot of every endpoint and connection.
    var statistics: ConductorPoolStatistics {
        state.withLock { state in
            ConductorPoolStatistics(endpoints: state.endpoints.map { endpoint in
                EndpointStatistics(
                    endpoint: endpoint.shared.endpoint.description, serving: endpoint.serving,
                    breakerState: endpoint.shared.breaker.state,
                    channels: endpoint.slots.map { slot in
                        let transport = slot.connection?.statistics
                        return ChannelStatistics(
                            state: slot.state, outstandingStreams: slot.outstanding, maxConcurrentStreams: slot.capacity,
                            peakOpenStreams: Int(transport?.maximumStreamsOpen ?? 0),
                            calls: slot.calls, failures: slot.failures, reconnects: max(0, slot.connectionsOpened - 1),
                            lastError: slot.lastError, tlsSessionResumed: transport?.tlsSessionResumed ?? false)
                    })
            })
        }
    }

    // MARK: Picking (under the lock)

    private enum Pick {
        case lease(PoolLease)
        case wait
        case failure(ConductorError)
    }

    private func pick(_ state: inout PoolState, avoiding: Int?, method: ConductorMethod, mayWait: Bool) -> Pick {
        if state.shuttingDown {
            return .failure(ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down", method: method))
        }
        let now = clock.now()
        var candidates: [(endpoint: Int, slot: Int)] = []
        var avoidedCandidates: [(endpoint: Int, slot: Int)] = []
        for e in state.endpoints.indices where state.endpoints[e].serving {
            for s in state.endpoints[e].slots.indices where state.endpoints[e].slots[s].accepts(at: now) {
                if state.endpoints[e].shared.key == avoiding {
                    avoidedCandidates.append((e, s))
                } else {
                    candidates.append((e, s))
                }
            }
        }
        for group in [candidates, avoidedCandidates] where !group.isEmpty {
            for (e, s) in preferenceOrder(group, state) {
                guard case .admitted(let permit) = state.endpoints[e].shared.breaker.tryAcquire() else { continue }
                let connection = connection(&state, endpoint: e, slot: s)
                state.endpoints[e].slots[s].outstanding += 1
                return .lease(PoolLease(endpoint: state.endpoints[e].shared, slot: s, connection: connection, permit: permit))
            }
        }
        return noLease(state, method: method, mayWait: mayWait, now: now)
    }

    /// Power of two choices: the less busy of two random candidates first, then the rest.
    private func preferenceOrder(_ group: [(endpoint: Int, slot: Int)], _ state: PoolState) -> [(endpoint: Int, slot: Int)] {
        guard group.count > 1 else { return group }
        var order = group
        let first = Int.random(in: 0..<order.count)
        var second = Int.random(in: 0..<(order.count - 1))
        if second >= first { second += 1 }
        let load = { (candidate: (endpoint: Int, slot: Int)) in state.endpoints[candidate.endpoint].slots[candidate.slot].outstanding }
        let best = load(order[first]) <= load(order[second]) ? first : second
        order.swapAt(0, best)
        return order
    }

    /// Why no connection can take the call: wait when connections are merely full, else fail fast.
    private func noLease(_ state: PoolState, method: ConductorMethod, mayWait: Bool, now: MonotonicInstant) -> Pick {
        let serving = state.endpoints.filter(\.serving)
        if state.endpoints.isEmpty {
            if state.awaitingAddresses && mayWait && state.waiters.count < configuration.maxPendingCalls { return .wait }
            return .failure(ConductorError(kind: .connectionFailed, code: .unavailable,
                                           message: "no endpoint address is known: the dns:/// names resolved to nothing",
                                           method: method, isRetryable: true))
        }
        if serving.isEmpty {
            return .failure(ConductorError(kind: .connectionFailed, code: .unavailable,
                                           message: "no endpoint is serving: health checks report NOT_SERVING for \(describe(state.endpoints))",
                                           method: method, isRetryable: true))
        }
        let full = serving.contains { endpoint in
            endpoint.shared.breaker.state != .open && endpoint.slots.contains(where: \.isFull)
        }
        if full {
            if mayWait && state.waiters.count < configuration.maxPendingCalls { return .wait }
            return .failure(ConductorError(
                kind: .poolSaturated, code: .resourceExhausted,
                message: "every connection is at the server's concurrent stream limit and \(state.waiters.count) calls already wait (CONDUCTOR_MAX_PENDING_CALLS=\(configuration.maxPendingCalls))",
                method: method, isRetryable: true))
        }
        let open = serving.filter { $0.shared.breaker.state == .open || $0.slots.contains { $0.accepts(at: now) } }
        if !open.isEmpty {
            let soonest = open.compactMap(\.shared.breaker.snapshot.openUntil).min()
            var when = "when probed again"
            if let soonest {
                let wait = now.duration(to: soonest)
                when = "in \(Double(Int(max(0, Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) * 10)) / 10) s"
            }
            return .failure(ConductorError(
                kind: .circuitOpen, code: .unavailable,
                message: "circuit breaker open for \(describe(open)) after repeated failures; no request sent; next probe \(when)",
                method: method, endpoint: open.count == 1 ? open[0].shared.endpoint.description : nil, isRetryable: true))
        }
        let errors = serving.flatMap { endpoint in endpoint.slots.compactMap(\.lastError) }
        return .failure(ConductorError(
            kind: .connectionFailed, code: .unavailable,
            message: "every endpoint is unreachable (waiting for reconnect backoff): " + (errors.first ?? describe(serving)),
            method: method, endpoint: serving.count == 1 ? serving[0].shared.endpoint.description : nil, isRetryable: true))
    }

    private func describe(_ endpoints: [PoolState.Endpoint]) -> String {
        endpoints.map(\.shared.endpoint.description).joined(separator: ", ")
    }

    /// The slot's connection, opened now when it has none.
    private func connection(_ state: inout PoolState, endpoint e: Int, slot s: Int) -> HTTP2Connection {
        if let existing = state.endpoints[e].slots[s].connection { return existing }
        let shared = state.endpoints[e].shared
        state.endpoints[e].slots[s].generation += 1
        let generation = state.endpoints[e].slots[s].generation
        var options = baseOptions
        options.keepaliveInterval = state.keepaliveInterval
        options.tls = shared.tls
        options.serverName = shared.serverName
        // CONDUCTOR_CONNECT_TIMEOUT is the minimum; after failures an attempt may take as long as the backoff.
        let failures = state.endpoints[e].slots[s].connectFailures
        options.connectTimeout = failures == 0 ? configuration.connectTimeout
            : max(configuration.connectTimeout, configuration.reconnectBackoff.ceiling(afterFailures: failures))
        let key = shared.key
        let connection = HTTP2Connection(target: shared.target, options: options) { [weak self] event in
            self?.handle(event, endpointKey: key, slot: s, generation: generation)
        }
        if state.endpoints[e].slots[s].connectionsOpened > 0 { metrics.reconnect(endpoint: shared.endpoint.description) }
        state.endpoints[e].slots[s].connectionsOpened += 1
        state.endpoints[e].slots[s].connection = connection
        state.endpoints[e].slots[s].state = .connecting
        return connection
    }

    // MARK: Connection events

    private func handle(_ event: HTTP2Connection.Event, endpointKey: Int, slot s: Int, generation: Int) {
        let resumed = state.withLock { state -> [(PoolState.Waiter, Result<PoolLease, ConductorError>)] in
            guard let e = state.endpoints.firstIndex(where: { $0.shared.key == endpointKey }),
                  state.endpoints[e].slots[s].generation == generation, !state.shuttingDown else { return [] }
            let endpoint = state.endpoints[e].shared.endpoint
            switch event {
            case .ready(let maxStreams):
                state.endpoints[e].slots[s].state = .ready
                state.endpoints[e].slots[s].capacity = max(1, Int(min(maxStreams, 1 << 20)))
                state.endpoints[e].slots[s].connectFailures = 0
                state.endpoints[e].slots[s].lastError = nil
                state.endpoints[e].slots[s].readyGeneration = generation
            case .settings(let maxStreams):
                state.endpoints[e].slots[s].capacity = max(1, Int(min(maxStreams, 1 << 20)))
            case .goaway(_, let detail):
                if detail.contains("too_many_pings"), let interval = state.keepaliveInterval {
                    state.keepaliveInterval = interval * 2
                    logger.warning("server sent GOAWAY too_many_pings; doubling the keepalive interval",
                                   metadata: ["endpoint": "\(endpoint)", "keepalive_interval": "\(interval * 2)"])
                } else {
                    logger.notice("server sent GOAWAY; the connection drains and is replaced",
                                  metadata: ["endpoint": "\(endpoint)", "detail": "\(detail)"])
                }
                retire(&state.endpoints[e].slots[s])
            case .keepaliveTimeout:
                logger.warning("keepalive ping unanswered; the connection is declared dead", metadata: ["endpoint": "\(endpoint)"])
            case .closed(let reason, let orderly):
                let wasReady = state.endpoints[e].slots[s].readyGeneration == generation
                retire(&state.endpoints[e].slots[s])
                if !wasReady {
                    state.endpoints[e].slots[s].connectFailures += 1
                    let failures = state.endpoints[e].slots[s].connectFailures
                    var generator = SystemRandomNumberGenerator()
                    let delay = configuration.reconnectBackoff.delay(afterFailures: failures, using: &generator)
                    state.endpoints[e].slots[s].state = .transientFailure
                    state.endpoints[e].slots[s].retryAt = clock.now() + delay
                    state.endpoints[e].slots[s].lastError = reason
                    logger.warning("connection attempt failed", metadata: [
                        "endpoint": "\(endpoint)", "reason": "\(reason)", "retry_in": "\(delay)", "failures": "\(failures)",
                    ])
                } else if !orderly {
                    state.endpoints[e].slots[s].lastError = reason
                    logger.warning("connection lost", metadata: ["endpoint": "\(endpoint)", "reason": "\(reason)"])
                }
                lossSignal.withLock { $0 = true }
            }
            return state.waiters.isEmpty ? [] : serviceWaiters(&state)
        }
        resume(resumed)
    }

    /// Forgets the slot's connection (it finishes its own streams); the next call opens a new one.
    private func retire(_ slot: inout PoolState.Slot) {
        slot.connection = nil
        slot.generation += 1
        slot.state = .idle
        slot.capacity = 100
    }

    // MARK: Waiting for a free stream

    private func waitForLease(avoiding: Int?, deadline: MonotonicInstant, method: ConductorMethod) async -> Result<PoolLease, ConductorError> {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        let timer = Task { [weak self] in
            guard let self else { return }
            let wait = clock.now().duration(to: deadline)
            if wait > .zero { try? await Task.sleep(for: wait) }
            guard !Task.isCancelled else { return }
            self.abandonWaiter(id, error: ConductorError(
                kind: .deadlineExceeded, code: .deadlineExceeded,
                message: "deadline exceeded while waiting for a free stream (every connection at the server's limit)",
                method: method, isRetryable: true))
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<PoolLease, ConductorError>, Never>) in
                let immediate = state.withLock { state -> Result<PoolLease, ConductorError>? in
                    switch pick(&state, avoiding: avoiding, method: method, mayWait: true) {
                    case .lease(let lease): return .success(lease)
                    case .failure(let error): return .failure(error)
                    case .wait:
                        state.waiters.append(PoolState.Waiter(id: id, avoiding: avoiding, method: method, continuation: continuation))
                        return nil
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            abandonWaiter(id, error: ConductorError(kind: .cancelled, code: .cancelled,
                                                    message: "call cancelled while waiting for a free stream", method: method))
        }
    }

    private func abandonWaiter(_ id: Int, error: ConductorError) {
        let waiter = state.withLock { state -> PoolState.Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(returning: .failure(error))
    }

    /// Hands free streams to waiting calls in arrival order; fails them when no endpoint can
    /// serve any more. Returns what to resume once the lock is released.
    private func serviceWaiters(_ state: inout PoolState) -> [(PoolState.Waiter, Result<PoolLease, ConductorError>)] {
        var resumed: [(PoolState.Waiter, Result<PoolLease, ConductorError>)] = []
        while let waiter = state.waiters.first {
            switch pick(&state, avoiding: waiter.avoiding, method: waiter.method, mayWait: true) {
            case .lease(let lease):
                state.waiters.removeFirst()
                resumed.append((waiter, .success(lease)))
            case .failure(let error):
                state.waiters.removeFirst()
                resumed.append((waiter, .failure(error)))
            case .wait:
                return resumed
            }
        }
        return resumed
    }

    private func resume(_ resumed: [(PoolState.Waiter, Result<PoolLease, ConductorError>)]) {
        for (waiter, result) in resumed { waiter.continuation.resume(returning: result) }
    }
}
