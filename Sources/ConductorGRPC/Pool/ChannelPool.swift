import GRPCWire
import BridgeResilience
import LockedState
import Logging

/// The client's connections. It owns a ``PoolStateMachine`` and a transport: it takes its lock
/// only to run the machine (and to keep the continuations of parked calls), and performs the
/// machine's actions — connect, resume, log, record, schedule a tick — after unlocking.
final class ChannelPool: Sendable {
    typealias Lease = PoolStateMachine.Lease
    private typealias Continuation = CheckedContinuation<Result<Lease, ConductorError>, Never>

    private struct Guarded: Sendable {
        var machine: PoolStateMachine
        var parked: [Int: Continuation] = [:]
        /// Every connection not yet CLOSED, draining ones included, for ``abort()``.
        var open: [PoolStateMachine.ConnectionID: any TransportConnection] = [:]
        /// Connections whose CLOSED arrived before `connect` returned them.
        var closedEarly: Set<PoolStateMachine.ConnectionID> = []
    }

    /// An action ready to run outside the lock: parked calls' continuations are taken under it.
    private enum Work {
        case resume(Continuation, Result<Lease, ConductorError>)
        case action(PoolStateMachine.Action)
    }

    private let guarded: Locked<Guarded>
    /// The pending tick timer and the generation it serves.
    private let tickTimer = Locked<(generation: Int, task: Task<Void, Never>)?>(nil)
    private let transport: any ConductorTransport
    let clock: any CallClock
    private let logger: Logger
    let metrics: ConductorMetrics
    /// Set when a connection to some endpoint is lost, so that DNS names are resolved again soon.
    let lossSignal = Locked(false)
    private let warnings = WarningLimiter()

    init(addresses: [ConductorEndpoint], configuration: ConductorConfiguration, tls: TLSContext?,
         transport: any ConductorTransport, clock: any CallClock, logger: Logger, metrics: ConductorMetrics) {
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        // dns:/// names are resolved in the background: calls wait for the first answer.
        let awaiting = addresses.count != configuration.endpoints.count
        guarded = Locked(Guarded(machine: PoolStateMachine(configuration: configuration, tls: tls, awaitingAddresses: awaiting)))
        if !awaiting || !addresses.isEmpty { updateAddresses(addresses) }
    }

    // MARK: Calls

    /// A stream for one call, with the endpoint breaker's permit; waits (within the request's
    /// deadline) while connections are connecting or full.
    func checkout(_ request: PoolStateMachine.Request) async throws(ConductorError) -> Lease {
        if let immediate = checkoutWithoutWaiting(request) { return try immediate.get() }
        return try await park(request).get()
    }

    /// A stream now, the call's error now, or nil: the call must wait. Synchronous and never
    /// inlined: the state machine's locals would otherwise sit in `checkout`'s async frame, which
    /// every waiting call keeps (massif at 2,000 in flight: 1.4 KB each).
    @inline(never)
    private func checkoutWithoutWaiting(_ request: PoolStateMachine.Request) -> Result<Lease, ConductorError>? {
        let now = clock.now()
        let (first, actions) = guarded.withLock { $0.machine.checkout(request, park: false, now: now) }
        perform(actions)
        switch first {
        case .leased(let lease): return .success(lease)
        case .failed(let error): return .failure(error)
        case .mustWait, .parked: return nil
        }
    }

    private func park(_ request: PoolStateMachine.Request) async -> Result<Lease, ConductorError> {
        let waiterID = Locked<Int?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Continuation) in
                let now = clock.now()
                let (work, immediate) = guarded.withLock { guarded -> ([Work], Result<Lease, ConductorError>?) in
                    // Checked under the lock: a cancellation handler that runs later finds the waiter.
                    if Task.isCancelled { return ([], .failure(Self.cancelledWhileWaiting(request.method))) }
                    let (checkout, actions) = guarded.machine.checkout(request, park: true, now: now)
                    let work = Self.take(actions, from: &guarded)
                    switch checkout {
                    case .leased(let lease): return (work, .success(lease))
                    case .failed(let error): return (work, .failure(error))
                    case .parked(let id):
                        guarded.parked[id] = continuation
                        waiterID.withLock { $0 = id }
                        return (work, nil)
                    case .mustWait: preconditionFailure("a parking checkout parks")
                    }
                }
                run(work)
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            // Under the pool's lock, as the parking is: either the call is parked and found here,
            // or it is not yet, and the parking sees the cancellation.
            let continuation = guarded.withLock { guarded -> Continuation? in
                guard let id = waiterID.withLock({ $0 }), guarded.machine.cancelWaiter(id) else { return nil }
                return guarded.parked.removeValue(forKey: id)
            }
            continuation?.resume(returning: .failure(Self.cancelledWhileWaiting(request.method)))
        }
    }

    /// Returns a call's stream; see ``PoolStateMachine/checkin(_:outcome:refused:now:)``.
    @discardableResult
    func checkin(_ lease: Lease, outcome: CircuitBreakerOutcome, refused: Bool = false) -> Bool {
        let now = clock.now()
        let (othersOpen, work) = guarded.withLock { guarded -> (Bool, [Work]) in
            let (othersOpen, actions) = guarded.machine.checkin(lease, outcome: outcome, refused: refused, now: now)
            return (othersOpen, Self.take(actions, from: &guarded))
        }
        run(work)
        return othersOpen
    }

    // MARK: Endpoints

    /// Replaces the set of endpoint addresses (after a DNS resolution).
    func updateAddresses(_ addresses: [ConductorEndpoint]) {
        let now = clock.now()
        apply { $0.updateAddresses(addresses, now: now) }
    }

    /// Calls parked, waiting for a stream.
    var parkedCallCount: Int {
        guarded.withLock { $0.machine.waiterCount }
    }

    /// The endpoints now in the pool.
    var endpoints: [PoolEndpoint] {
        guarded.withLock { $0.machine.endpoints.map(\.shared) }
    }

    /// Takes an endpoint out of rotation (NOT_SERVING) or puts it back.
    func setServing(_ serving: Bool, endpointKey: Int) {
        let now = clock.now()
        apply { $0.setServing(serving, endpointKey: endpointKey, now: now) }
    }

    // MARK: Shutdown and statistics

    deinit {
        tickTimer.withLock { $0?.task.cancel() }
    }

    /// Records the utilization gauge (streams in flight ÷ capacity) now.
    func sampleUtilization() {
        metrics.utilization(guarded.withLock { $0.machine.utilization })
    }

    /// Whether ``shutdown()`` ran: no call gets a connection any more.
    var isShutDown: Bool {
        guarded.withLock { $0.machine.shuttingDown }
    }

    /// Shuts down, then fails the calls still open on any connection and closes them all now.
    func abort() {
        shutdown()
        for connection in guarded.withLock({ Array($0.open.values) }) {
            connection.abort()
        }
    }

    /// Fails waiting calls, stops new streams, closes every connection once its calls finish.
    func shutdown() {
        apply { $0.shutdown() }
        tickTimer.withLock { timer in
            timer?.task.cancel()
            timer = nil
        }
    }

    /// After ``shutdown()``, once no call runs: the transport lets go of what its connections shared.
    func closeTransport() async {
        await transport.close()
    }

    /// A snapshot of every endpoint and connection.
    var statistics: ConductorPoolStatistics {
        guarded.withLock { guarded in
            let now = clock.now()
            return ConductorPoolStatistics(endpoints: guarded.machine.endpoints.map { endpoint in
                EndpointStatistics(
                    endpoint: endpoint.shared.endpoint.description, serving: endpoint.serving,
                    breakerState: endpoint.breakerBlocks(at: now) ? .open : endpoint.breaker.snapshot.state,
                    channels: endpoint.slots.map { slot in
                        let transport = slot.connection?.transportStatistics
                        return ChannelStatistics(
                            state: slot.channelState, outstandingStreams: slot.outstanding, maxConcurrentStreams: slot.advertisedLimit,
                            usableStreamLimit: slot.limit, peakOpenStreams: Int(transport?.maximumStreamsOpen ?? 0),
                            calls: slot.calls, failures: slot.failures, reconnects: max(0, slot.connectionsOpened - 1),
                            lastError: slot.lastError, tlsSessionResumed: transport?.tlsSessionResumed ?? false)
                    })
            })
        }
    }

    // MARK: Running the machine

    private func apply(_ event: (inout PoolStateMachine) -> [PoolStateMachine.Action]) {
        let work = guarded.withLock { guarded in Self.take(event(&guarded.machine), from: &guarded) }
        run(work)
    }

    private func tick() {
        let now = clock.now()
        apply { $0.tick(now: now) }
    }

    private func handle(_ event: HTTP2Connection.Event, of id: PoolStateMachine.ConnectionID) {
        if case .closed = event {
            guarded.withLock { guarded in
                if guarded.open.removeValue(forKey: id) == nil { guarded.closedEarly.insert(id) }
            }
        }
        let now = clock.now()
        apply { $0.handle(event, of: id, now: now) }
    }

    private static func take(_ actions: [PoolStateMachine.Action], from guarded: inout Guarded) -> [Work] {
        actions.compactMap { action in
            guard case .resume(let id, let result) = action else { return .action(action) }
            return guarded.parked.removeValue(forKey: id).map { .resume($0, result) }
        }
    }

    private func perform(_ actions: [PoolStateMachine.Action]) {
        guard !actions.isEmpty else { return }
        run(guarded.withLock { Self.take(actions, from: &$0) })
    }

    private func run(_ work: [Work]) {
        for item in work {
            switch item {
            case .resume(let continuation, let result):
                continuation.resume(returning: result)
            case .action(let action):
                run(action)
            }
        }
    }

    private func run(_ action: PoolStateMachine.Action) {
        switch action {
        case .resume:
            preconditionFailure("resume actions are taken under the lock")
        case .connect(let id, let endpoint, let settings):
            let connection = transport.connect(to: endpoint, settings: settings) { [weak self] event in
                self?.handle(event, of: id)
            }
            guarded.withLock { guarded in
                if guarded.closedEarly.remove(id) == nil { guarded.open[id] = connection }
            }
            let now = clock.now()
            apply { $0.attach(connection, to: id, now: now) }
        case .shutDown(let connection):
            connection.shutdown()
        case .scheduleTick(let instant, let generation):
            // Actions of two threads may run out of order: only a newer generation replaces the timer.
            tickTimer.withLock { timer in
                if let current = timer, current.generation >= generation { return }
                timer?.task.cancel()
                let task = Task { [weak self, clock] in
                    guard (try? await clock.sleep(until: instant)) != nil else { return }
                    self?.tick()
                }
                timer = (generation, task)
            }
        case .cancelTick(let generation):
            tickTimer.withLock { timer in
                guard let current = timer, current.generation == generation else { return }
                current.task.cancel()
                timer = nil
            }
        case .log(let level, let message, var metadata):
            let (effective, suppressed) = warnings.level(for: level, message: message, metadata: metadata, at: clock.now())
            if suppressed > 0 { metadata["repeats_suppressed"] = "\(suppressed)" }
            logger.log(level: effective, "\(message)", metadata: metadata)
        case .breakerState(let state, let endpoint, let sequence):
            metrics.breakerState(state, endpoint: endpoint, sequence: sequence)
        case .endpointHealth(let serving, let endpoint):
            metrics.endpointHealth(serving, endpoint: endpoint)
        case .reconnect(let endpoint):
            metrics.reconnect(endpoint: endpoint)
        case .connections(let counts, let sequence):
            metrics.connections(counts, sequence: sequence)
        case .connectionLost:
            lossSignal.withLock { $0 = true }
        }
    }

    private static func cancelledWhileWaiting(_ method: ConductorMethod) -> ConductorError {
        ConductorError(kind: .cancelled, code: .cancelled, message: "call cancelled while waiting for a connection", method: method)
    }
}
