import BridgeResilience

/// Everything about the pool that changes, kept under one lock.
struct PoolState: Sendable {
    /// One pooled connection.
    struct Slot: Sendable {
        var connection: HTTP2Connection?
        /// Bumped whenever `connection` is replaced, so late events of an old one are ignored.
        var generation = 0
        var state: ChannelState = .idle
        var outstanding = 0
        /// The server's SETTINGS_MAX_CONCURRENT_STREAMS; nghttp2's assumption until it is known.
        var capacity = 100
        var connectFailures = 0
        var retryAt: MonotonicInstant?
        var lastError: String?
        var readyGeneration = -1
        var calls = 0
        var failures = 0
        var connectionsOpened = 0

        /// Whether a call may be placed here now (opening a connection if needed).
        func accepts(at now: MonotonicInstant) -> Bool {
            switch state {
            case .ready, .connecting: outstanding < capacity
            case .idle: true
            case .transientFailure: retryAt.map { $0 <= now } ?? true
            case .shutdown: false
            }
        }

        /// Whether the slot is connected (or connecting) but every stream is taken.
        var isFull: Bool {
            (state == .ready || state == .connecting) && outstanding >= capacity
        }
    }

    /// One endpoint's connections.
    struct Endpoint: Sendable {
        let shared: PoolEndpoint
        var serving = true
        var slots: [Slot]
    }

    /// A call waiting for a free stream.
    struct Waiter: Sendable {
        let id: Int
        let avoiding: Int?
        let method: ConductorMethod
        let continuation: CheckedContinuation<Result<PoolLease, ConductorError>, Never>
    }

    var endpoints: [Endpoint] = []
    var waiters: [Waiter] = []
    var shuttingDown = false
    /// True until the first DNS resolution of `dns:///` endpoints has been applied.
    var awaitingAddresses = false
    var keepaliveInterval: Duration?
    var nextEndpointKey = 0
    var nextWaiterID = 0
}
