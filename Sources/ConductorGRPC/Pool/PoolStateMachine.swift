import GRPCWire
import BridgeResilience
import Logging

/// The pool's rules as a value: no locks, no I/O, no clock reads (time is an argument). Each
/// event returns the actions to perform; ``ChannelPool`` runs the machine under its lock and
/// performs the actions after unlocking. docs/architecture.md draws the states and events.
///
/// Rules:
/// 1. A stream is leased only on a *ready* connection (the server's SETTINGS arrived) with a free
///    stream under its limit, so the first streams never exceed what the server advertised.
/// 2. Among ready connections of serving endpoints whose breaker admits the call, the less busy of
///    two random candidates wins (power of two choices); a retry prefers another endpoint.
/// 3. Every pick makes sure each endpoint's first `connectionsPerEndpoint` slots are connecting or
///    connected (a failed slot waits for its reconnect backoff). When every connection of an
///    endpoint is at its limit and calls wait, one more connection opens, up to
///    `maxConnectionsPerEndpoint`.
/// 4. A call that finds no free stream waits (FIFO, bounded by `maxPendingCalls`, until its
///    deadline) while some connection is connecting or full; it fails at once when every endpoint
///    is unreachable, open or not serving, or when the queue is full.
/// 5. REFUSED_STREAM lowers the connection's limit to the streams still open; each success raises
///    it by one, up to the advertised limit.
/// 6. `breakerThreshold` failed connection attempts in a row open the endpoint's breaker
///    (unreachable); the pool keeps reconnecting on its backoff, and the first connection that
///    becomes ready closes the breaker again.
struct PoolStateMachine: Sendable {
    /// What one call asks of the pool.
    struct Request: Sendable {
        var method: ConductorMethod
        var deadline: MonotonicInstant
        /// The endpoint of the previous attempt, avoided when another can take the call.
        var avoiding: Int?
        /// Health checks: this endpoint only, whatever its health or breaker says.
        var pinned: Int?
        /// Hedges: never this endpoint (the one the call already went to).
        var excluding: Int? = nil
        /// Hedges: a free stream now or nothing — no waiting, no new connection.
        var takesOnlyAFreeStream = false
    }

    /// Identifies one connection: its endpoint, slot and generation.
    struct ConnectionID: Sendable, Hashable {
        var endpointKey: Int
        var slot: Int
        var generation: Int
    }

    /// The right to run one call on one connection; given back with ``checkin(_:outcome:refused:now:)``.
    struct Lease: Sendable {
        let endpoint: PoolEndpoint
        let connectionID: ConnectionID
        let connection: any TransportConnection
        /// The breaker's permit; nil for health checks, which the breaker does not see.
        let permit: CircuitBreakerPermit?
    }

    /// The answer to a checkout.
    enum Checkout: Sendable {
        case leased(Lease)
        case failed(ConductorError)
        /// No stream now; the call may wait (it was parked when the checkout allowed it).
        case mustWait
        case parked(waiterID: Int)
    }

    /// Something the owner performs after unlocking.
    enum Action: Sendable {
        case resume(waiterID: Int, Result<Lease, ConductorError>)
        case connect(ConnectionID, PoolEndpoint, TransportConnectionSettings)
        case shutDown(any TransportConnection)
        /// Deliver ``tick(now:)`` at (or after) this instant; replaces the ticks of older generations.
        case scheduleTick(MonotonicInstant, generation: Int)
        /// The tick of this generation is no longer needed.
        case cancelTick(generation: Int)
        case log(Logger.Level, String, Logger.Metadata)
        /// `sequence` orders the gauge updates, which run outside the lock on any thread.
        case breakerState(CircuitBreakerState, endpoint: String, sequence: UInt64)
        case endpointHealth(Bool, endpoint: String)
        case reconnect(endpoint: String)
        /// The number of connections in each state changed (every state is listed, zeros included).
        case connections([ChannelState: Int], sequence: UInt64)
        /// A connection to some endpoint was lost (DNS names are resolved again soon).
        case connectionLost
    }

    private struct Waiter: Sendable {
        let id: Int
        let request: Request
    }

    let configuration: ConductorConfiguration
    private let tls: TLSContext?
    /// The reconnect backoff, whose minimum connect timeout is `CONDUCTOR_CONNECT_TIMEOUT`.
    private let backoff: ConnectionBackoff
    private(set) var endpoints: [PoolEndpointState] = []
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private var nextEndpointKey = 0
    private var keepaliveInterval: Duration?
    private(set) var shuttingDown = false
    /// True until the first resolution of `dns:///` endpoints arrived: calls wait for it.
    private var awaitingAddresses: Bool
    /// The earliest tick asked for and not yet delivered, and its generation.
    private var scheduledTick: MonotonicInstant?
    private var tickGeneration = 0
    private var connectionCounts: [ChannelState: Int] = [:]
    /// Numbers the gauge updates (see ``Action/breakerState(_:endpoint:sequence:)``).
    private var reportSequence: UInt64 = 0

    init(configuration: ConductorConfiguration, tls: TLSContext?, awaitingAddresses: Bool) {
        self.configuration = configuration
        self.tls = tls
        var backoff = configuration.reconnectBackoff
        backoff.minimumConnectTimeout = configuration.connectTimeout
        self.backoff = backoff
        self.keepaliveInterval = configuration.keepaliveInterval
        self.awaitingAddresses = awaitingAddresses
    }

    /// Calls parked now.
    var waiterCount: Int { waiters.count }

    private var maxSlots: Int {
        max(configuration.connectionsPerEndpoint, configuration.maxConnectionsPerEndpoint)
    }

    // MARK: Calls

    /// A stream for `request`; with `park` the call is queued when it must wait.
    mutating func checkout(_ request: Request, park: Bool, now: MonotonicInstant) -> (Checkout, [Action]) {
        var actions: [Action] = []
        switch pick(request, now: now, actions: &actions) {
        case .lease(let lease):
            return (.leased(lease), actions)
        case .fail(let error):
            return (.failed(error), actions)
        case .wait:
            guard waiters.count < configuration.maxPendingCalls else {
                return (.failed(saturated(request.method)), actions)
            }
            guard park else { return (.mustWait, actions) }
            let id = nextWaiterID
            nextWaiterID += 1
            waiters.append(Waiter(id: id, request: request))
            requestTick(at: request.deadline, &actions)
            return (.parked(waiterID: id), actions)
        }
    }

    /// Gives a call's stream back. `outcome` goes to the endpoint's breaker; `refused` says the
    /// server refused the stream (REFUSED_STREAM). Returns whether other streams are still open
    /// on that connection: a refused call then waits for one of them to close.
    mutating func checkin(_ lease: Lease, outcome: CircuitBreakerOutcome, refused: Bool, now: MonotonicInstant)
        -> (othersOpen: Bool, actions: [Action]) {
        var actions: [Action] = []
        let id = lease.connectionID
        guard let e = index(of: id.endpointKey) else { return (false, actions) }
        if let permit = lease.permit {
            let transition = endpoints[e].breaker.record(outcome, for: permit, clock: FixedInstantClock(now))
            report(transition, endpoint: e, &actions)
        }
        var othersOpen = false
        if endpoints[e].slots[id.slot].generation == id.generation {
            endpoints[e].slots[id.slot].outstanding -= 1
            endpoints[e].slots[id.slot].calls += 1
            if outcome != .success { endpoints[e].slots[id.slot].failures += 1 }
            let open = endpoints[e].slots[id.slot].outstanding
            if refused {
                endpoints[e].slots[id.slot].limit = max(1, open)
                othersOpen = open > 0
            } else if outcome == .success, endpoints[e].slots[id.slot].limit < endpoints[e].slots[id.slot].advertisedLimit {
                endpoints[e].slots[id.slot].limit += 1
            }
        }
        serveWaiters(now: now, &actions)
        return (othersOpen, actions)
    }

    /// Removes a parked call (its task was cancelled); returns whether it was still parked.
    mutating func cancelWaiter(_ waiterID: Int) -> Bool {
        guard let index = waiters.firstIndex(where: { $0.id == waiterID }) else { return false }
        waiters.remove(at: index)
        return true
    }

    // MARK: Connections

    /// The transport created the connection for `id`.
    mutating func attach(_ connection: any TransportConnection, to id: ConnectionID, now: MonotonicInstant) -> [Action] {
        guard !shuttingDown, let e = index(of: id.endpointKey), endpoints[e].slots[id.slot].generation == id.generation else {
            return [.shutDown(connection)] // its slot moved on (it failed before it was handed over)
        }
        endpoints[e].slots[id.slot].connection = connection
        var actions: [Action] = []
        if endpoints[e].slots[id.slot].phase == .ready { serveWaiters(now: now, &actions) }
        return actions
    }

    /// A connection reported an event.
    mutating func handle(_ event: HTTP2Connection.Event, of id: ConnectionID, now: MonotonicInstant) -> [Action] {
        guard !shuttingDown, let e = index(of: id.endpointKey), endpoints[e].slots[id.slot].generation == id.generation else {
            return []
        }
        var actions: [Action] = []
        let endpoint = endpoints[e].shared.endpoint
        let s = id.slot
        switch event {
        case .ready(let maxStreams):
            let limit = Self.streamLimit(maxStreams)
            endpoints[e].slots[s].phase = .ready
            endpoints[e].slots[s].advertisedLimit = limit
            endpoints[e].slots[s].limit = limit
            endpoints[e].slots[s].connectFailures = 0
            endpoints[e].slots[s].lastError = nil
            endpoints[e].failedConnects = 0
            report(endpoints[e].breaker.recoverReachability(at: now), endpoint: e, &actions)
            reportConnections(&actions)
        case .settings(let maxStreams):
            let limit = Self.streamLimit(maxStreams)
            endpoints[e].slots[s].advertisedLimit = limit
            endpoints[e].slots[s].limit = limit
        case .goaway(_, let detail):
            if detail.contains("too_many_pings"), let interval = keepaliveInterval {
                keepaliveInterval = interval * 2
                actions.append(.log(.warning, "server sent GOAWAY too_many_pings; doubling the keepalive interval",
                                    ["endpoint": "\(endpoint)", "keepalive_interval": "\(interval * 2)"]))
            } else {
                actions.append(.log(.info, "server sent GOAWAY; the connection drains and is replaced",
                                    ["endpoint": "\(endpoint)", "detail": "\(detail)"]))
            }
            endpoints[e].slots[s].retire()
            reportConnections(&actions)
        case .keepaliveTimeout:
            actions.append(.log(.warning, "keepalive ping unanswered; the connection is declared dead", ["endpoint": "\(endpoint)"]))
        case .http1Selected:
            break // the REST transport's own connection handles it (it never reaches the pool)
        case .closed(let reason, let orderly):
            if endpoints[e].slots[s].phase == .ready {
                endpoints[e].slots[s].retire()
                if !orderly {
                    endpoints[e].slots[s].lastError = reason
                    actions.append(.log(.info, "connection lost", ["endpoint": "\(endpoint)", "reason": "\(reason)"]))
                }
            } else {
                connectionAttemptFailed(endpoint: e, slot: s, reason: reason, now: now, &actions)
            }
            reportConnections(&actions)
            actions.append(.connectionLost)
        }
        serveWaiters(now: now, &actions)
        return actions
    }

    private mutating func connectionAttemptFailed(endpoint e: Int, slot s: Int, reason: String, now: MonotonicInstant,
                                                  _ actions: inout [Action]) {
        endpoints[e].slots[s].retire()
        endpoints[e].slots[s].connectFailures += 1
        endpoints[e].failedConnects += 1
        let failures = endpoints[e].slots[s].connectFailures
        var generator = SystemRandomNumberGenerator()
        let delay = backoff.delay(afterFailures: failures, using: &generator)
        endpoints[e].slots[s].phase = .transientFailure(retryAt: now + delay)
        endpoints[e].slots[s].lastError = reason
        // The first failure of a streak is news; the rest of it is routine (the breaker's warning
        // says the endpoint is unreachable).
        actions.append(.log(failures == 1 ? .info : .debug, "connection attempt failed", [
            "endpoint": "\(endpoints[e].shared.endpoint)", "reason": "\(reason)", "retry_in": "\(delay)",
            "failures": "\(failures)",
        ]))
        if endpoints[e].failedConnects >= configuration.circuitBreakerThreshold {
            report(endpoints[e].breaker.markUnreachable(at: now), endpoint: e, &actions)
        }
        if endpoints[e].isUnreachable {
            requestTick(at: now + delay, &actions) // keep reconnecting: the first success closes the breaker
        }
    }

    // MARK: Time, health, addresses, shutdown

    /// Time passed: calls whose deadline passed fail; unreachable endpoints whose backoff ended reconnect.
    mutating func tick(now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        if let scheduled = scheduledTick, scheduled <= now { scheduledTick = nil }
        var expired: [Waiter] = []
        waiters.removeAll { waiter in
            guard waiter.request.deadline <= now else { return false }
            expired.append(waiter)
            return true
        }
        for waiter in expired {
            actions.append(.resume(waiterID: waiter.id, .failure(waitTimedOut(waiter.request))))
        }
        for e in endpoints.indices where endpoints[e].isUnreachable {
            for s in endpoints[e].slots.indices.prefix(configuration.connectionsPerEndpoint)
            where endpoints[e].slots[s].mayConnect(at: now) {
                connect(endpoint: e, slot: s, &actions)
            }
        }
        if let next = waiters.map(\.request.deadline).min() { requestTick(at: next, &actions) }
        settleTick(&actions)
        for e in endpoints.indices where endpoints[e].isUnreachable {
            for slot in endpoints[e].slots {
                if case .transientFailure(let retryAt) = slot.phase { requestTick(at: retryAt, &actions) }
            }
        }
        return actions
    }

    /// Health checks report an endpoint serving or not.
    mutating func setServing(_ serving: Bool, endpointKey: Int, now: MonotonicInstant) -> [Action] {
        guard let e = index(of: endpointKey), endpoints[e].serving != serving else { return [] }
        endpoints[e].serving = serving
        let endpoint = endpoints[e].shared.endpoint
        var actions: [Action] = [
            serving ? .log(.info, "endpoint serves again", ["endpoint": "\(endpoint)"])
                : .log(.warning, "endpoint reports NOT_SERVING; taken out of rotation", ["endpoint": "\(endpoint)"]),
            .endpointHealth(serving, endpoint: endpoint.description),
        ]
        serveWaiters(now: now, &actions)
        return actions
    }

    /// Replaces the endpoint addresses (after a DNS resolution): addresses that stay keep their
    /// connections and breaker; vanished ones drain.
    mutating func updateAddresses(_ addresses: [ConductorEndpoint], now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        var kept: [PoolEndpointState] = []
        for address in addresses {
            if let existing = endpoints.first(where: { $0.shared.endpoint == address }) {
                kept.append(existing)
                continue
            }
            let shared = PoolEndpoint(key: nextEndpointKey, endpoint: address, configuration: configuration, tls: tls)
            nextEndpointKey += 1
            let breaker = CircuitBreakerStateMachine(configuration: CircuitBreakerConfiguration(
                failureThreshold: configuration.circuitBreakerThreshold, openDuration: configuration.circuitBreakerTimeout))
            kept.append(PoolEndpointState(shared: shared, breaker: breaker,
                                          slots: Array(repeating: PoolSlot(), count: configuration.connectionsPerEndpoint)))
            actions.append(.breakerState(.closed, endpoint: address.description, sequence: nextReport()))
        }
        for old in endpoints where !kept.contains(where: { $0.shared.key == old.shared.key }) {
            actions += old.slots.compactMap(\.connection).map(Action.shutDown)
        }
        endpoints = kept
        awaitingAddresses = false
        reportConnections(&actions)
        serveWaiters(now: now, &actions)
        return actions
    }

    /// Fails waiting calls and closes every connection once its calls finish.
    mutating func shutdown() -> [Action] {
        shuttingDown = true
        var actions: [Action] = waiters.map { waiter in
            .resume(waiterID: waiter.id, .failure(ConductorError(
                kind: .shutDown, code: .unavailable, message: "the client was shut down while the call waited for a connection",
                method: waiter.request.method)))
        }
        waiters = []
        for e in endpoints.indices {
            for s in endpoints[e].slots.indices {
                if let connection = endpoints[e].slots[s].connection { actions.append(.shutDown(connection)) }
                endpoints[e].slots[s].retire()
                endpoints[e].slots[s].phase = .shutdown
            }
        }
        reportConnections(&actions)
        return actions
    }

    // MARK: Picking

    private enum Pick {
        case lease(Lease)
        case wait
        case fail(ConductorError)
    }

    private mutating func pick(_ request: Request, now: MonotonicInstant, actions: inout [Action]) -> Pick {
        if shuttingDown {
            return .fail(ConductorError(kind: .shutDown, code: .unavailable, message: "the client has been shut down",
                                        method: request.method))
        }
        if awaitingAddresses && endpoints.isEmpty { return .wait }
        var preferred: [(endpoint: Int, slot: Int)] = []
        var avoided: [(endpoint: Int, slot: Int)] = []
        for e in endpoints.indices where admits(e, request) {
            if request.pinned == nil && !request.takesOnlyAFreeStream { ensureConnections(endpoint: e, now: now, &actions) }
            for s in endpoints[e].slots.indices where endpoints[e].slots[s].hasFreeStream {
                if endpoints[e].shared.key == request.avoiding { avoided.append((e, s)) } else { preferred.append((e, s)) }
            }
        }
        for group in [preferred, avoided] where !group.isEmpty {
            for (e, s) in preferenceOrder(group) {
                var permit: CircuitBreakerPermit?
                if request.pinned == nil {
                    let (admission, transition) = endpoints[e].breaker.acquire(clock: FixedInstantClock(now))
                    report(transition, endpoint: e, &actions)
                    guard case .admitted(let granted) = admission else { continue }
                    permit = granted
                }
                endpoints[e].slots[s].outstanding += 1
                let slot = endpoints[e].slots[s]
                return .lease(Lease(
                    endpoint: endpoints[e].shared,
                    connectionID: ConnectionID(endpointKey: endpoints[e].shared.key, slot: s, generation: slot.generation),
                    connection: slot.connection!, permit: permit))
            }
        }
        if request.takesOnlyAFreeStream {
            return .fail(ConductorError(kind: .poolSaturated, code: .unavailable,
                                        message: "no other endpoint has a free stream now", method: request.method))
        }
        return noFreeStream(request, now: now, &actions)
    }

    /// Whether `request` may go to endpoint `e` at all (its health, its key).
    private func admits(_ e: Int, _ request: Request) -> Bool {
        if let pinned = request.pinned { return endpoints[e].shared.key == pinned }
        if endpoints[e].shared.key == request.excluding { return false }
        return endpoints[e].serving
    }

    /// Starts connecting the endpoint's base slots that have no connection (past their backoff).
    private mutating func ensureConnections(endpoint e: Int, now: MonotonicInstant, _ actions: inout [Action]) {
        guard !endpoints[e].breakerBlocks(at: now) else { return }
        for s in endpoints[e].slots.indices.prefix(configuration.connectionsPerEndpoint) where endpoints[e].slots[s].mayConnect(at: now) {
            connect(endpoint: e, slot: s, &actions)
        }
    }

    /// Power of two choices: the less busy of two random candidates first, then the rest.
    private func preferenceOrder(_ group: [(endpoint: Int, slot: Int)]) -> [(endpoint: Int, slot: Int)] {
        guard group.count > 1 else { return group }
        var order = group
        let first = Int.random(in: 0..<order.count)
        var second = Int.random(in: 0..<(order.count - 1))
        if second >= first { second += 1 }
        let load = { (candidate: (endpoint: Int, slot: Int)) in self.endpoints[candidate.endpoint].slots[candidate.slot].outstanding }
        order.swapAt(0, load(order[first]) <= load(order[second]) ? first : second)
        return order
    }

    /// No free stream now: wait while a connection is on its way or full, else say why not.
    private mutating func noFreeStream(_ request: Request, now: MonotonicInstant, _ actions: inout [Action]) -> Pick {
        let candidates = endpoints.indices.filter { admits($0, request) }
        var progress = false
        for e in candidates where request.pinned != nil || !endpoints[e].breakerBlocks(at: now) {
            let slots = endpoints[e].slots
            if slots.contains(where: { $0.phase == .connecting || ($0.phase == .ready && $0.connection == nil) }) {
                progress = true
            } else if let s = slots.indices.first(where: { slots[$0].mayConnect(at: now) }) {
                connect(endpoint: e, slot: s, &actions)
                progress = true
            } else if slots.contains(where: \.isFull) {
                if slots.allSatisfy(\.isFullAtAdvertisedLimit) && slots.count < maxSlots {
                    endpoints[e].slots.append(PoolSlot())
                    connect(endpoint: e, slot: slots.count, &actions)
                }
                progress = true
            }
        }
        if progress { return .wait }
        return .fail(unavailable(request, candidates: candidates, now: now))
    }

    private mutating func connect(endpoint e: Int, slot s: Int, _ actions: inout [Action]) {
        let shared = endpoints[e].shared
        endpoints[e].slots[s].generation += 1
        endpoints[e].slots[s].phase = .connecting
        if endpoints[e].slots[s].connectionsOpened > 0 { actions.append(.reconnect(endpoint: shared.endpoint.description)) }
        endpoints[e].slots[s].connectionsOpened += 1
        let failures = endpoints[e].slots[s].connectFailures
        let settings = TransportConnectionSettings(
            connectTimeout: backoff.connectTimeout(afterFailures: failures), keepaliveInterval: keepaliveInterval)
        let id = ConnectionID(endpointKey: shared.key, slot: s, generation: endpoints[e].slots[s].generation)
        actions.append(.connect(id, shared, settings))
        reportConnections(&actions)
    }

    /// Hands free streams to waiting calls in arrival order; fails those that can no longer be served.
    private mutating func serveWaiters(now: MonotonicInstant, _ actions: inout [Action]) {
        while let waiter = waiters.first {
            switch pick(waiter.request, now: now, actions: &actions) {
            case .lease(let lease):
                waiters.removeFirst()
                actions.append(.resume(waiterID: waiter.id, .success(lease)))
            case .fail(let error):
                waiters.removeFirst()
                actions.append(.resume(waiterID: waiter.id, .failure(error)))
            case .wait:
                return
            }
        }
        settleTick(&actions)
    }

    private mutating func requestTick(at instant: MonotonicInstant, _ actions: inout [Action]) {
        if let scheduled = scheduledTick, scheduled <= instant { return }
        scheduledTick = instant
        tickGeneration += 1
        actions.append(.scheduleTick(instant, generation: tickGeneration))
    }

    /// Drops the scheduled tick when nothing waits for time any more (no parked call, no
    /// unreachable endpoint to reconnect), so no timer outlives its purpose.
    private mutating func settleTick(_ actions: inout [Action]) {
        guard scheduledTick != nil, waiters.isEmpty, !endpoints.contains(where: \.isUnreachable) else { return }
        scheduledTick = nil
        actions.append(.cancelTick(generation: tickGeneration))
    }

    private mutating func report(_ transition: CircuitBreakerTransition?, endpoint e: Int, _ actions: inout [Action]) {
        guard let transition else { return }
        let endpoint = endpoints[e].shared.endpoint
        let metadata: Logger.Metadata = [
            "endpoint": "\(endpoint)", "from": "\(transition.from)", "to": "\(transition.to)", "reason": "\(transition.reason)",
        ]
        actions.append(transition.to == .open
            ? .log(.warning, "circuit breaker opened", metadata)
            : .log(.info, "circuit breaker changed state", metadata))
        actions.append(.breakerState(transition.to, endpoint: endpoint.description, sequence: nextReport()))
    }

    /// Reports the connections by state when a count changed.
    private mutating func reportConnections(_ actions: inout [Action]) {
        var counts = Dictionary(uniqueKeysWithValues: ChannelState.allCases.map { ($0, 0) })
        for endpoint in endpoints {
            for slot in endpoint.slots { counts[slot.channelState, default: 0] += 1 }
        }
        guard counts != connectionCounts else { return }
        connectionCounts = counts
        actions.append(.connections(counts, sequence: nextReport()))
    }

    private mutating func nextReport() -> UInt64 {
        reportSequence += 1
        return reportSequence
    }

    /// Streams in flight ÷ the stream capacity of the ready connections (0 with none ready).
    var utilization: Double {
        var inFlight = 0
        var capacity = 0
        for endpoint in endpoints {
            for slot in endpoint.slots where slot.phase == .ready {
                inFlight += slot.outstanding
                capacity += slot.limit
            }
        }
        return capacity == 0 ? 0 : Double(inFlight) / Double(capacity)
    }

    private func index(of endpointKey: Int) -> Int? {
        endpoints.firstIndex { $0.shared.key == endpointKey }
    }

    private static func streamLimit(_ advertised: UInt32) -> Int {
        advertised == UInt32.max ? PoolSlot.unadvertisedStreamLimit : max(1, Int(min(advertised, 1 << 20)))
    }
}
