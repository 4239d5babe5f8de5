import GRPCWire
import BridgeResilience

/// One endpoint address of the pool and what belongs to it for its whole life outside the pool's
/// state: the retry budget and the request header template. Its health, breaker and connections
/// live in ``PoolStateMachine``.
final class PoolEndpoint: Sendable {
    /// Unique within the pool; survives DNS updates that keep the address.
    let key: Int
    let endpoint: ConductorEndpoint
    let target: HTTP2Connection.Target
    let budget: RetryBudget
    let requestHeads: GRPCRequestHeadBuilder
    /// TLS settings for this endpoint's connections; nil for cleartext.
    let tls: TLSContext?
    /// The name its certificate must carry (and SNI): configured, or the resolved `dns:///` name.
    let serverName: String?

    init(key: Int, endpoint: ConductorEndpoint, configuration: ConductorConfiguration, tls: TLSContext?) {
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
                                              authority: serverName.map { "\($0):\(port)" } ?? endpoint.authority,
                                              userAgent: ConductorClient.userAgent,
                                              compression: GRPCCompression(rawValue: configuration.compression.rawValue))
    }
}
