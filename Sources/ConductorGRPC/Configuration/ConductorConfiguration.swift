import BridgeResilience

/// Everything the client can be configured with. Each property's variable, default, range and
/// meaning are stated once, in ``ConductorSetting/all`` (the README's table shows the same).
public struct ConductorConfiguration: Sendable, Hashable {
    /// Where calls go.
    public enum Mode: String, Sendable, Hashable {
        /// A remote conductor over gRPC (`CONDUCTOR_MODE=http`, the seed's name for "remote").
        case remote = "http"
        /// An in-process conductor with the same API and semantics, for tests (`CONDUCTOR_MODE=memory`).
        case memory
    }

    /// The protocol a remote conductor speaks.
    public enum WireProtocol: String, Sendable, Hashable {
        /// gRPC over HTTP/2 (nghttp2): the conductor's `ConductorBridge` service.
        case grpc
        /// The conductor's REST routes with JSON, over HTTP/1.1 keep-alive (libcurl), or HTTP/2 on
        /// the client's own HTTP/2 transport when an `https://` server offers it. Over HTTP/1.1
        /// each connection carries one request at a time, so ``maxConnectionsPerEndpoint`` bounds
        /// the requests in flight per endpoint: `CONDUCTOR_PROTOCOL=http` raises its default to
        /// ``restMaxConnectionsPerEndpoint``.
        case http
    }

    /// Where calls go. Default `.remote`.
    public var mode: Mode = .remote
    /// The protocol of a remote conductor (`CONDUCTOR_PROTOCOL`). Default `.grpc`.
    public var wireProtocol: WireProtocol = .grpc
    /// The default of ``maxConnectionsPerEndpoint`` when ``wireProtocol`` is `.http` (a value set
    /// explicitly, or `CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT`, wins).
    public static let restMaxConnectionsPerEndpoint = 16
    /// The conductor's addresses (`CONDUCTOR_BASE_URL`); required in remote mode.
    public var endpoints: [ConductorEndpoint] = []
    /// Retries after the first attempt (`CONDUCTOR_MAX_RETRIES`).
    public var maxRetries: Int = 3
    /// The backoff base (`CONDUCTOR_RETRY_DELAY`).
    public var retryDelay: Duration = .seconds(1)
    /// The backoff cap (`CONDUCTOR_RETRY_MAX_DELAY`).
    public var retryMaxDelay: Duration = .seconds(10)
    /// Retry throttling: the token bucket's size (`CONDUCTOR_RETRY_BUDGET_TOKENS`).
    /// Retries stop while fewer than half the tokens are left; each retryable failure costs one.
    public var retryBudgetMaxTokens: Int = 10
    /// Retry throttling: tokens earned per successful call (`CONDUCTOR_RETRY_BUDGET_RATIO`). Over time retries stay below this fraction of successful calls, so a failing
    /// conductor receives at most about (1 + ratio)× the offered load.
    public var retryBudgetTokenRatio: Double = 0.1
    /// The whole-call deadline, retries included (`CONDUCTOR_TIMEOUT`).
    public var timeout: Duration = .seconds(30)
    /// Consecutive failures that open a circuit breaker (`CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD`).
    public var circuitBreakerThreshold: Int = 5
    /// How long an open breaker rejects calls (`CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT`).
    public var circuitBreakerTimeout: Duration = .seconds(60)
    /// How long a non-canonical day proof is cached (`CONDUCTOR_CACHE_TTL`).
    public var cacheTTL: Duration = .seconds(300)
    /// How many day proofs the cache holds (`CONDUCTOR_CACHE_SIZE`).
    public var cacheSize: Int = 1000
    /// Whether an expired non-canonical day proof is returned when the conductor cannot be reached
    /// (`CONDUCTOR_CACHE_SERVE_STALE`).
    public var serveStaleDayProofs: Bool = false
    /// Whether the conductor deduplicates submits by event hash, which makes retrying a submit
    /// after UNAVAILABLE safe (`CONDUCTOR_SUBMIT_DEDUPLICATED`).
    public var submitsAreDeduplicated: Bool = true
    /// The largest response message accepted (`CONDUCTOR_MAX_MESSAGE_BYTES`).
    public var maxReceiveMessageBytes: Int = 4 << 20
    /// How long connecting may take (`CONDUCTOR_CONNECT_TIMEOUT`).
    public var connectTimeout: Duration = .seconds(20)
    /// Keepalive PING interval while calls are open (`CONDUCTOR_KEEPALIVE_INTERVAL`).
    public var keepaliveInterval: Duration? = .seconds(30)
    /// How long a keepalive PING may wait for its ACK (`CONDUCTOR_KEEPALIVE_TIMEOUT`).
    public var keepaliveTimeout: Duration = .seconds(20)

    /// HTTP/2 connections per endpoint (`CONDUCTOR_CONNECTIONS_PER_ENDPOINT`).
    public var connectionsPerEndpoint: Int = 1
    /// The most HTTP/2 connections one endpoint may get (`CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT`;
    /// ``connectionsPerEndpoint`` when that is larger). When every connection of an endpoint is at
    /// the server's stream limit and calls wait, another connection opens, up to this bound.
    /// Default 4, and ``restMaxConnectionsPerEndpoint`` when ``wireProtocol`` is `.http` (an
    /// HTTP/1.1 connection carries one request at a time), unless set — in either order.
    public var maxConnectionsPerEndpoint: Int {
        get { explicitMaxConnectionsPerEndpoint ?? (wireProtocol == .http ? Self.restMaxConnectionsPerEndpoint : 4) }
        set { explicitMaxConnectionsPerEndpoint = newValue }
    }
    private var explicitMaxConnectionsPerEndpoint: Int?
    /// Calls that may wait for a free stream when every connection is at the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS (`CONDUCTOR_MAX_PENDING_CALLS`);
    /// beyond it calls fail at once as saturated.
    public var maxPendingCalls: Int = 1000
    /// How often each endpoint's health is checked (`CONDUCTOR_HEALTH_CHECK_INTERVAL`). NOT_SERVING takes an endpoint out of rotation until it serves again.
    public var healthCheckInterval: Duration? = .seconds(30)
    /// Which health service the checks call (`CONDUCTOR_HEALTH_CHECK_SERVICE`, `conductor` or `grpc`).
    public var healthCheckService: HealthCheckService = .conductor
    /// How often `dns:///` endpoints are resolved again (`CONDUCTOR_DNS_REFRESH_INTERVAL`).
    public var dnsRefreshInterval: Duration = .seconds(30)
    /// PEM file of the CA certificates that TLS servers are verified against
    /// (`CONDUCTOR_TLS_CA_FILE`); the system trust store when nil.
    public var tlsCAFile: String?
    /// PEM client certificate for mutual TLS (`CONDUCTOR_TLS_CERT_FILE`); needs ``tlsKeyFile``.
    public var tlsCertificateFile: String?
    /// PEM private key of the client certificate (`CONDUCTOR_TLS_KEY_FILE`).
    public var tlsKeyFile: String?
    /// The name checked in the server's certificate and sent as SNI (`CONDUCTOR_TLS_SERVER_NAME`);
    /// the endpoint's host when nil.
    public var tlsServerName: String?
    /// The preset applied (`CONDUCTOR_PRESET`), if any; see ``apply(_:)``.
    public var preset: Preset?
    /// How long a shutdown lets the calls in flight finish before it fails them
    /// (`CONDUCTOR_SHUTDOWN_GRACE_PERIOD`); see ``ConductorClient/shutdown(gracePeriod:)``.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// How request messages are compressed (`CONDUCTOR_COMPRESSION`); when set, the client also
    /// asks for compressed answers. Compressed answers are read whatever this says.
    public var compression: Compression = .none
    /// Metadata sent with every call, before the call's own (`CONDUCTOR_METADATA`).
    public var metadata = ConductorMetadata()
    /// A file holding a bearer token sent as `authorization: Bearer …` with every call
    /// (`CONDUCTOR_AUTH_TOKEN_FILE`); read again every 60 s and after UNAUTHENTICATED, so a
    /// rotated token (a Kubernetes projected token) is picked up. See ``BearerTokenInterceptor``.
    public var authTokenFile: String?
    /// The SQLite database of the durable outbox (`CONDUCTOR_OUTBOX_PATH`); nil: no outbox, and
    /// ``ConductorClient/submitDurably(_:)`` fails. See ``ConductorOutbox``.
    public var outboxPath: String?
    /// How many events the outbox holds at most (`CONDUCTOR_OUTBOX_MAX_EVENTS`).
    public var outboxMaxEvents: Int = 100_000
    /// How many event bytes the outbox holds at most (`CONDUCTOR_OUTBOX_MAX_BYTES`).
    public var outboxMaxBytes: Int = 256 << 20
    /// How long a single `submit` waits for others to share a `SubmitEventsBatch` with
    /// (`CONDUCTOR_SUBMIT_COALESCE_WINDOW`); nil: no coalescing. See ``ConductorClient/submit(_:options:)``.
    public var submitCoalesceWindow: Duration?
    /// Hedged day-proof reads (`CONDUCTOR_HEDGE_DELAY`): a `GetDayProof` not answered after this
    /// long is sent to a second endpoint as well, and the first answer wins (the other stream is
    /// reset). A hedge draws on the retry budget and never goes to an endpoint whose breaker is
    /// open or that has no free stream. nil: no hedging.
    public var hedgeDelay: Duration?
    /// Events per coalesced batch at most (`CONDUCTOR_SUBMIT_COALESCE_MAX`); a full batch goes at once.
    public var submitCoalesceMax: Int = 100
    /// Reconnection backoff; gRPC's defaults (1 s, ×1.6, ±20 %, at most 120 s).
    public var reconnectBackoff: ConnectionBackoff = ConnectionBackoff()

    /// Which RPC answers health checks.
    public enum HealthCheckService: String, Sendable, Hashable {
        /// `chorus.ConductorBridge/HealthCheck`.
        case conductor
        /// The standard `grpc.health.v1.Health/Check`; UNIMPLEMENTED counts as serving.
        case grpc
    }

    /// How request messages are compressed. Responses in gzip or deflate are always accepted.
    public enum Compression: String, Sendable, Hashable, CaseIterable {
        /// Requests go uncompressed (the default: conductor messages are small).
        case none
        /// gzip (RFC 1952).
        case gzip
        /// gRPC's `deflate`: the zlib format (RFC 1950).
        case deflate
    }

    /// A configuration with every default and no endpoint.
    public init() {}

    /// A remote configuration for the given endpoints, other settings at their defaults.
    public init(endpoints: [ConductorEndpoint]) {
        self.endpoints = endpoints
    }

    /// A remote configuration for a URL list such as `grpc://conductor:50051`.
    public init(baseURL: String) throws(ConductorError) {
        self.endpoints = try ConductorEndpoint.parseList(baseURL)
    }
}
