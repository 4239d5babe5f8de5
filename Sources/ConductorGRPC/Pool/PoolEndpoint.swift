import BridgeResilience
import Logging

/// One endpoint address of the pool and what belongs to it for its whole life: the circuit
/// breaker, the retry budget and the request header template. Its connections live in the
/// pool's locked state.
final class PoolEndpoint: Sendable {
    /// Unique within the pool; survives DNS updates that keep the address.
    let key: Int
    let endpoint: ConductorEndpoint
    let target: HTTP2Connection.Target
    let breaker: CircuitBreaker
    let budget: RetryBudget
    let requestHeads: GRPCRequestHeadBuilder
    /// TLS settings for this endpoint's connections; nil for cleartext.
    let tls: TLSContext?
    /// The name its certificate must carry (and SNI): configured, or the resolved `dns:///` name.
    let serverName: String?

    init(key: Int, endpoint: ConductorEndpoint, configuration: ConductorConfiguration, tls: TLSContext?, logger: Logger,
         metrics: ConductorMetrics) {
        self.key = key
        self.endpoint = endpoint
        switch endpoint.transport {
        case .tcp(let host, let port), .dns(let host, let port):
            target = HTTP2Connection.Target(host: host, port: port)
        case .unixSocket(let path):
            target = HTTP2Connection.Target(host: path, port: 0, isUnixSocket: true)
        }
        budget = RetryBudget(maxTokens: configuration.retryBudgetMaxTokens, tokenRatio: configuration.retryBudgetTokenRatio)
        self.tls = endpoint.usesTLS ? tls : nil
        let serverName = endpoint.usesTLS ? configuration.tlsServerName ?? endpoint.resolvedName : nil
        self.serverName = serverName
        let port = target.port
        requestHeads = GRPCRequestHeadBuilder(scheme: endpoint.usesTLS ? "https" : "http",
                                              authority: serverName.map { "\($0):\(port)" } ?? endpoint.authority)
        let breakerConfiguration = CircuitBreakerConfiguration(
            failureThreshold: configuration.circuitBreakerThreshold,
            openDuration: configuration.circuitBreakerTimeout)
        breaker = CircuitBreaker(configuration: breakerConfiguration) { transition in
            let metadata: Logger.Metadata = [
                "endpoint": "\(endpoint)", "from": "\(transition.from)", "to": "\(transition.to)",
                "reason": "\(transition.reason)",
            ]
            if transition.to == .open {
                logger.warning("circuit breaker opened", metadata: metadata)
            } else {
                logger.notice("circuit breaker changed state", metadata: metadata)
            }
            metrics.breakerState(transition.to, endpoint: endpoint.description)
        }
        metrics.breakerState(.closed, endpoint: endpoint.description)
    }
}
