import BridgeResilience

/// A snapshot of the client's endpoints and connections.
public struct ConductorPoolStatistics: Sendable {
    /// One entry per endpoint address, in configuration order.
    public var endpoints: [EndpointStatistics]
}

/// One endpoint address.
public struct EndpointStatistics: Sendable {
    /// `host:port` or `unix:/path`.
    public var endpoint: String
    /// False while health checks report NOT_SERVING.
    public var serving: Bool
    /// The endpoint's circuit breaker.
    public var breakerState: CircuitBreakerState
    /// The endpoint's connections.
    public var channels: [ChannelStatistics]
}

/// One pooled connection.
public struct ChannelStatistics: Sendable {
    /// Its state.
    public var state: ChannelState
    /// Calls running on it now.
    public var outstandingStreams: Int
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until the server said).
    public var maxConcurrentStreams: Int
    /// The streams the pool sends on it now: the server's limit, lowered to the streams still
    /// open when the server refused one (REFUSED_STREAM), and raised by one per success after.
    public var usableStreamLimit: Int
    /// The most streams the transport ever had open at once on its current connection.
    public var peakOpenStreams: Int
    /// Calls finished on it.
    public var calls: Int
    /// Calls that failed on it.
    public var failures: Int
    /// Connections opened after the first one.
    public var reconnects: Int
    /// Why the last connection attempt failed, if it did.
    public var lastError: String?
    /// The current connection's TLS handshake resumed the session of an earlier connection to the
    /// same address (an abbreviated handshake); false for cleartext and full handshakes.
    public var tlsSessionResumed: Bool
}
