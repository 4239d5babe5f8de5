import GRPCWire
import BridgeResilience

/// What the pool needs from a protocol underneath: connections that report their lifecycle, and
/// one request/response exchange at a time on them. The nghttp2 connection is the production
/// implementation (``NGHTTP2Transport``); tests script one in process, so that every rule of the
/// pool and the retry loop runs without sockets and with a manual clock.
protocol ConductorTransport: Sendable {
    /// Starts connecting to `endpoint`; `onEvent` receives the connection's lifecycle events, from
    /// any thread, possibly before this function returns. `CLOSED` is the last event.
    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection

    /// The client shut down and no call runs any more: release what connections share (the REST
    /// transport closes its loop and with it every connection), and return once that is done.
    func close() async

    /// The executor of the thread that completes this transport's calls (see
    /// ``ConductorClient/loopExecutor``); nil when there is none to offer.
    var loopExecutor: (any TaskExecutor)? { get }
}

extension ConductorTransport {
    func close() async {}
    var loopExecutor: (any TaskExecutor)? { nil }
}

/// Per-connection settings the pool chooses.
struct TransportConnectionSettings: Sendable {
    /// How long connecting may take, up to the server's first SETTINGS.
    var connectTimeout: Duration
    /// Keepalive PING interval (nil: off); the pool doubles it after `too_many_pings`.
    var keepaliveInterval: Duration?
}

/// One connection of a ``ConductorTransport``.
protocol TransportConnection: AnyObject, Sendable {
    /// Sends one request and waits for the whole response; never throws (every failure is an
    /// outcome of the result); Task cancellation resets the stream. `keepingAllHeaders`: the
    /// caller reads response headers gRPC does not interpret.
    func exchange(headers: HTTP2HeaderBlock, body: [UInt8], timeout: Duration?, maximumResponseBytes: Int,
                  keepingAllHeaders: Bool) async -> HTTP2StreamResult
    /// Stops new streams and closes once the open ones have finished.
    func shutdown()
    /// Fails every call on the connection now (CONNECTION_LOST, or NOT_SENT if never sent) and closes it.
    func abort()
    /// Transport counters, when the transport keeps any.
    var transportStatistics: HTTP2Connection.Statistics? { get }
}
