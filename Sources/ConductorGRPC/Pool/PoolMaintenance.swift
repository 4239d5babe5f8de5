import GRPCWire
import BridgeResilience
import LockedState
import Logging

/// The pool's background work, in one task per client: health checks of every endpoint every
/// `CONDUCTOR_HEALTH_CHECK_INTERVAL`, and resolving `dns:///` names again every
/// `CONDUCTOR_DNS_REFRESH_INTERVAL` or soon after a connection was lost.
///
/// Health: NOT_SERVING (or SERVICE_UNKNOWN) takes an endpoint out of rotation; SERVING, or
/// UNIMPLEMENTED from the standard service (a server without it), puts it back. A check that
/// fails for transport reasons changes nothing: that is the breaker's and the connection's job.
final class PoolMaintenance: Sendable {
    private let pool: ChannelPool
    private let configuration: ConductorConfiguration
    private let logger: Logger
    private let task = Locked<Task<Void, Never>?>(nil)
    private let resolved = Locked<[ConductorEndpoint: [ConductorEndpoint]]>([:])

    init(pool: ChannelPool, configuration: ConductorConfiguration, logger: Logger) {
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
    }

    /// Resolves `dns:///` endpoints once, then keeps the pool maintained until ``stop()``.
    func start(initialResolution: Bool) {
        let needsDNS = configuration.endpoints.contains { if case .dns = $0.transport { true } else { false } }
        guard needsDNS || configuration.healthCheckInterval != nil else { return }
        let work = Task { [weak self] in
            if needsDNS && initialResolution { await self?.refreshAddresses() }
            await self?.run(needsDNS: needsDNS)
        }
        task.withLock { $0 = work }
    }

    /// Ends the background task.
    func stop() {
        task.withLock { $0 }?.cancel()
    }

    private func run(needsDNS: Bool) async {
        let clock = ContinuousClock()
        var nextHealth = clock.now + (configuration.healthCheckInterval ?? .seconds(1))
        var nextDNS = clock.now + configuration.dnsRefreshInterval
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = clock.now
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
