import GRPCWire
import BridgeResilience
import LockedState
import Logging

/// The pool's background work, run by ``ConductorClient/run()`` as structured concurrency: health
/// checks of every endpoint every `CONDUCTOR_HEALTH_CHECK_INTERVAL`, resolving `dns:///` names
/// again every `CONDUCTOR_DNS_REFRESH_INTERVAL` or soon after a connection was lost, and sampling
/// the pool's utilization gauge every second (a gauge per call would cost the call path). Time comes from
/// the pool's clock, so tests drive it with a manual one.
///
/// Health: NOT_SERVING (or SERVICE_UNKNOWN) takes an endpoint out of rotation; SERVING, or
/// UNIMPLEMENTED from the standard service (a server without it), puts it back. A check that
/// fails for transport reasons changes nothing: that is the breaker's and the connection's job.
///
/// A client that is never run still resolves its `dns:///` names once, on its first call
/// (``resolveIfNeeded()``); only the refreshes and the health checks need `run()`.
final class PoolMaintenance: Sendable {
    private enum Resolution {
        case pending
        case resolving([CheckedContinuation<Void, Never>])
        case done
    }

    private let pool: ChannelPool
    private let configuration: ConductorConfiguration
    private let logger: Logger
    private let resolved = Locked<[ConductorEndpoint: [ConductorEndpoint]]>([:])
    private let resolution: Locked<Resolution>
    /// How often a lost connection is looked for, to resolve names again soon after.
    private static let lossPollInterval: Duration = .milliseconds(250)

    /// Whether some endpoint is a `dns:///` name.
    let needsDNS: Bool

    init(pool: ChannelPool, configuration: ConductorConfiguration, logger: Logger) {
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
        needsDNS = configuration.endpoints.contains { if case .dns = $0.transport { true } else { false } }
        resolution = Locked(needsDNS ? .pending : .done)
    }

    /// Resolves the `dns:///` names once, if nothing has yet; concurrent callers share the lookup,
    /// which the first of them performs (a lookup is not cancellable, so a cancelled first caller
    /// still finishes it for the others). Never inlined: inlined into the call path, its locals sat
    /// in the async frame of every call, `dns:///` or not.
    @inline(never)
    func resolveIfNeeded() async {
        let first = resolution.withLock { resolution -> Bool in
            guard case .pending = resolution else { return false }
            resolution = .resolving([])
            return true
        }
        if first {
            await refreshAddresses()
            let waiters = resolution.withLock { resolution -> [CheckedContinuation<Void, Never>] in
                defer { resolution = .done }
                if case .resolving(let waiters) = resolution { return waiters }
                return []
            }
            for waiter in waiters { waiter.resume() }
            return
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = resolution.withLock { resolution -> Bool in
                guard case .resolving(let waiters) = resolution else { return true }
                resolution = .resolving(waiters + [continuation])
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// How often the pool's utilization gauge is sampled.
    static let utilizationInterval: Duration = .seconds(1)

    /// Health checks, DNS refreshes and the utilization gauge, until the task is cancelled.
    func run() async {
        await resolveIfNeeded()
        let clock = pool.clock
        let never = clock.now() + .seconds(86_400 * 365)
        var nextHealth = configuration.healthCheckInterval.map { clock.now() + $0 } ?? never
        var nextDNS = needsDNS ? clock.now() + configuration.dnsRefreshInterval : never
        var nextSample = clock.now() + Self.utilizationInterval
        while !Task.isCancelled {
            let wake = min(nextHealth, nextSample, needsDNS ? min(nextDNS, clock.now() + Self.lossPollInterval) : never)
            guard (try? await clock.sleep(until: wake)) != nil else { return }
            let now = clock.now()
            if now >= nextSample {
                nextSample = now + Self.utilizationInterval
                pool.sampleUtilization()
            }
            if let interval = configuration.healthCheckInterval, now >= nextHealth {
                nextHealth = now + interval
                await checkHealth(timeout: min(interval, .seconds(5)))
            }
            if needsDNS {
                let lost = pool.lossSignal.withLock { signal in
                    defer { signal = false }
                    return signal
                }
                if lost || now >= nextDNS {
                    nextDNS = now + configuration.dnsRefreshInterval
                    await refreshAddresses()
                }
            }
        }
    }

    /// Resolves the configured names and hands the addresses to the pool (the last good set is
    /// kept for a name that fails to resolve).
    func refreshAddresses() async {
        let previous = resolved.withLock { $0 }
        let fresh = await AddressResolver.resolve(configuration.endpoints, previous: previous)
        resolved.withLock { $0 = fresh }
        let addresses = AddressResolver.flatten(fresh, order: configuration.endpoints)
        if addresses != pool.endpoints.map(\.endpoint) {
            logger.notice("endpoint addresses changed", metadata: ["addresses": "\(addresses.map(\.description))"])
        }
        pool.updateAddresses(addresses) // keeps the connections of addresses that stay

    }

    private func checkHealth(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for endpoint in pool.endpoints {
                group.addTask { await self.check(endpoint, timeout: timeout) }
            }
        }
    }

    private func check(_ endpoint: PoolEndpoint, timeout: Duration) async {
        let method: ConductorMethod = configuration.healthCheckService == .conductor ? .healthCheck : .standardHealthCheck
        let request = PoolStateMachine.Request(method: method, deadline: pool.clock.now() + timeout, pinned: endpoint.key)
        guard let lease = try? await pool.checkout(request) else { return }
        let body = method == .healthCheck
            ? ConductorProtobufCodec.encodeHealthCheckRequest(service: "")
            : ConductorProtobufCodec.encodeStandardHealthCheckRequest(service: "")
        let stream = await lease.connection.exchange(
            headers: endpoint.requestHeads.headers(path: method.path, timeout: timeout, metadata: configuration.metadata.wire),
            body: body, timeout: timeout, maximumResponseBytes: 4096, keepingAllHeaders: false)
        pool.checkin(lease, outcome: .ignored)
        switch GRPCResponseInterpreter.interpret(stream, maximumMessageLength: 4096).result {
        case .success(let message):
            let status = method == .healthCheck
                ? try? ConductorProtobufCodec.decodeHealthCheck(message)
                : try? ConductorProtobufCodec.decodeStandardHealthCheck(message)
            switch status {
            case .serving: pool.setServing(true, endpointKey: endpoint.key)
            case .notServing, .serviceUnknown: pool.setServing(false, endpointKey: endpoint.key)
            case .unknown, .none: break
            }
        case .failure(let failure):
            if failure.status.code == .unimplemented && method == .standardHealthCheck {
                pool.setServing(true, endpointKey: endpoint.key)
            } else {
                logger.debug("health check failed", metadata: ["endpoint": "\(endpoint.endpoint)", "status": "\(failure.status)"])
            }
        }
    }
}
