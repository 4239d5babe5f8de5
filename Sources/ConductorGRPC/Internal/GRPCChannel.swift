import BridgeResilience
import Logging
import Synchronization

/// The calls of one endpoint over one HTTP/2 connection, replaced by a new connection when the
/// current one drains (GOAWAY) or closes. Connecting is lazy: the first call starts it, and calls
/// wait in the transport until the socket is connected.
final class GRPCChannel: Sendable {
    let endpoint: ConductorEndpoint
    let requestHeads: GRPCRequestHeadBuilder
    /// Opens after repeated failures so that calls fail fast instead of piling onto a dead endpoint.
    let breaker: CircuitBreaker
    /// gRPC retry throttling for this endpoint: a failing endpoint gets at most ~1.1x the offered load.
    let budget: RetryBudget
    private let options: HTTP2Connection.Options
    private let current = Mutex<HTTP2Connection?>(nil)

    init(endpoint: ConductorEndpoint, configuration: ConductorConfiguration, logger: Logger) {
        self.endpoint = endpoint
        self.budget = RetryBudget(maxTokens: configuration.retryBudgetMaxTokens,
                                  tokenRatio: configuration.retryBudgetTokenRatio)
        let breakerConfiguration = CircuitBreakerConfiguration(
            failureThreshold: configuration.circuitBreakerThreshold,
            openDuration: configuration.circuitBreakerTimeout)
        self.breaker = CircuitBreaker(configuration: breakerConfiguration) { transition in
            let metadata: Logger.Metadata = [
                "endpoint": "\(endpoint)", "from": "\(transition.from)", "to": "\(transition.to)",
                "reason": "\(transition.reason)",
            ]
            if transition.to == .open {
                logger.warning("circuit breaker opened", metadata: metadata)
            } else {
                logger.notice("circuit breaker changed state", metadata: metadata)
            }
        }
        self.requestHeads = GRPCRequestHeadBuilder(scheme: "http", authority: endpoint.authority)
        var options = HTTP2Connection.Options()
        options.connectTimeout = configuration.connectTimeout
        options.keepaliveInterval = configuration.keepaliveInterval
        options.keepaliveTimeout = configuration.keepaliveTimeout
        // A 4 MiB message must not wait for window updates; the response limit bounds memory.
        options.streamWindowBytes = max(4 << 20, configuration.maxReceiveMessageBytes + 1024)
        options.connectionWindowBytes = max(16 << 20, options.streamWindowBytes)
        self.options = options
    }

    /// The connection new calls should use, opened if there is none usable.
    func connection() -> HTTP2Connection {
        current.withLock { current in
            if let connection = current, connection.acceptsNewCalls { return connection }
            let connection = HTTP2Connection(target: target, options: options)
            current = connection
            return connection
        }
    }

    /// Stops new streams on the current connection and closes it once its calls have finished.
    func shutdown() {
        let connection = current.withLock { current in
            defer { current = nil }
            return current
        }
        connection?.shutdown()
    }

    private var target: HTTP2Connection.Target {
        switch endpoint.transport {
        case .tcp(let host, let port): HTTP2Connection.Target(host: host, port: port)
        case .unixSocket(let path): HTTP2Connection.Target(host: path, port: 0, isUnixSocket: true)
        }
    }
}
