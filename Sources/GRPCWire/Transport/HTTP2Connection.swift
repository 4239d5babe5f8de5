import CNGHTTP2Shim

/// One HTTP/2 connection owned by the shim's event loop, seen from Swift.
///
/// The shim would hold calls started while connecting until the socket is up, but the pool starts
/// none before the server's SETTINGS (its `.ready` event), when the stream limit is known. The
/// connection reports its lifecycle through `onEvent` (called on the loop thread; keep it short).
package final class HTTP2Connection: Sendable {
    /// Where to connect.
    package struct Target: Sendable, Hashable {
        /// A host name, a numeric IPv4/IPv6 address, or a unix socket path.
        package var host: String
        /// The TCP port (ignored for unix sockets).
        package var port: Int
        /// Whether `host` is a unix socket path.
        package var isUnixSocket: Bool

        /// Creates a target.
        package init(host: String, port: Int, isUnixSocket: Bool = false) {
            self.host = host
            self.port = port
            self.isUnixSocket = isUnixSocket
        }

    }

    /// Connection-level settings.
    package struct Options: Sendable {
        /// How long connecting may take, up to the server's first SETTINGS frame.
        package var connectTimeout: Duration = .seconds(20)
        /// Keepalive PING interval, measured from the last byte read; nil disables keepalive.
        package var keepaliveInterval: Duration?
        /// How long a keepalive PING may wait for its ACK.
        package var keepaliveTimeout: Duration = .seconds(20)
        /// The receive window of each stream.
        package var streamWindowBytes: Int = 4 << 20
        /// The receive window of the connection.
        package var connectionWindowBytes: Int = 16 << 20
        /// The largest response header list accepted (and announced).
        package var maximumHeaderListBytes: Int = 16 << 10
        /// TLS for this connection; nil for cleartext HTTP/2 (prior knowledge).
        package var tls: TLSContext?
        /// The name sent as SNI and checked against the certificate; the host when nil.
        package var serverName: String?
        /// TLS: ALPN offers HTTP/1.1 after h2; a server that picks it fails the connection with
        /// ``Event/http1Selected`` before ``Event/closed(reason:orderly:)`` (the REST transport
        /// then speaks HTTP/1.1 to it through libcurl).
        package var offersHTTP1 = false
        /// Response bodies are not gRPC messages: only the receive limit bounds them.
        package var plainBodies = false

        /// Default options.
        package init() {}
    }

    /// What happened to the connection.
    package enum Event: Sendable, Equatable {
        /// The server's SETTINGS arrived: usable, with this concurrent stream limit.
        case ready(maxConcurrentStreams: UInt32)
        /// The server changed its SETTINGS: its concurrent stream limit is now this.
        case settings(maxConcurrentStreams: UInt32)
        /// The server sent GOAWAY; no new streams will open here.
        case goaway(lastStreamID: UInt32, detail: String)
        /// A keepalive PING was not answered in time.
        case keepaliveTimeout
        /// With ``Options/offersHTTP1``: the TLS server chose HTTP/1.1; the connection closes.
        case http1Selected
        /// The connection is gone; `orderly` is false after a failure.
        case closed(reason: String, orderly: Bool)
    }

    /// What the pool reports of the shim's counters.
    package struct Statistics: Sendable {
        /// The most streams open at once.
        package var maximumStreamsOpen: UInt64
        /// The TLS handshake resumed a session of an earlier connection (false for cleartext).
        package var tlsSessionResumed: Bool
    }

    /// The endpoint this connection goes to.
    package let target: Target
    private let shim: ShimConnectionHandle
    private var handle: OpaquePointer { shim.pointer }
    private let events: ConnectionEvents

    /// Starts connecting at once; `onEvent` receives the lifecycle events.
    package init(target: Target, options: Options = Options(), onEvent: (@Sendable (Event) -> Void)? = nil) {
        self.target = target
        // The shim may report events (even CLOSED) before this initializer returns, so they go to
        // an object that exists before the connection does, not to `self`.
        let events = ConnectionEvents(handler: onEvent)
        self.events = events
        let context = Unmanaged.passRetained(events).toOpaque()
        var cOptions = h2shim_conn_options()
        cOptions.port = UInt16(clamping: target.port)
        cOptions.is_unix = target.isUnixSocket ? 1 : 0
        cOptions.connect_timeout_ns = options.connectTimeout.shimNanoseconds
        cOptions.keepalive_interval_ns = options.keepaliveInterval?.shimNanoseconds ?? 0
        cOptions.keepalive_timeout_ns = options.keepaliveTimeout.shimNanoseconds
        cOptions.initial_window_size = UInt32(clamping: options.streamWindowBytes)
        cOptions.connection_window_size = UInt32(clamping: options.connectionWindowBytes)
        cOptions.max_header_list_size = UInt32(clamping: options.maximumHeaderListBytes)
        cOptions.tls = options.tls?.pointer
        cOptions.offer_http1 = options.offersHTTP1 ? 1 : 0
        cOptions.plain_bodies = options.plainBodies ? 1 : 0
        let created = target.host.withCString { host -> OpaquePointer? in
            cOptions.host = host
            return withOptionalCString(options.serverName) { serverName in
                cOptions.server_name = serverName
                return h2shim_conn_create(h2shim_loop_shared(), &cOptions, HTTP2Connection.onShimEvent, context)
            }
        }
        guard let created else { fatalError("h2shim_conn_create: out of memory") }
        self.shim = ShimConnectionHandle(pointer: created)
    }

    deinit {
        h2shim_conn_shutdown(handle)
        h2shim_conn_release(handle)
    }

    /// Sends one request and waits for the whole response. Never throws: every failure is an
    /// outcome of the result. Task cancellation resets the stream. `keepingAllHeaders` keeps the
    /// response headers gRPC does not interpret (by default only those it reads are copied).
    package func exchange(
        headers: HTTP2HeaderBlock,
        body: [UInt8],
        timeout: Duration?,
        maximumResponseBytes: Int,
        keepingAllHeaders: Bool = false
    ) async -> HTTP2StreamResult {
        await HTTP2Exchange.run(
            on: handle, headers: headers, body: body, timeout: timeout,
            maximumResponseBytes: maximumResponseBytes, keepingAllHeaders: keepingAllHeaders)
    }

    /// Stops new streams and closes once the open ones have finished.
    package func shutdown() {
        h2shim_conn_shutdown(handle)
    }

    /// Fails every call on the connection now (CONNECTION_LOST, or NOT_SENT if never sent) and closes it.
    package func abort() {
        h2shim_conn_close(handle)
    }

    /// A snapshot of the shim's counters.
    package var statistics: Statistics {
        var stats = h2shim_conn_stats()
        h2shim_conn_get_stats(handle, &stats)
        return Statistics(maximumStreamsOpen: stats.max_streams_open, tlsSessionResumed: stats.tls_session_resumed != 0)
    }

    private static let onShimEvent: h2shim_conn_event_fn = { context, kind, value, detail in
        guard let context else { return }
        let unmanaged = Unmanaged<ConnectionEvents>.fromOpaque(context)
        let text = detail.map { String(cString: $0) } ?? ""
        let event: Event
        switch kind {
        case H2SHIM_EVENT_READY: event = .ready(maxConcurrentStreams: UInt32(truncatingIfNeeded: value))
        case H2SHIM_EVENT_GOAWAY: event = .goaway(lastStreamID: UInt32(truncatingIfNeeded: value), detail: text)
        case H2SHIM_EVENT_KEEPALIVE_TIMEOUT: event = .keepaliveTimeout
        case H2SHIM_EVENT_SETTINGS: event = .settings(maxConcurrentStreams: UInt32(truncatingIfNeeded: value))
        case H2SHIM_EVENT_HTTP1_SELECTED: event = .http1Selected
        default: event = .closed(reason: text, orderly: value != 0)
        }
        unmanaged.takeUnretainedValue().deliver(event)
        if case .closed = event { unmanaged.release() } // CLOSED is the last event
    }

}

/// The shim's event context. The shim holds a reference until CLOSED, which may come after the
/// last Swift reference to the connection is gone.
private final class ConnectionEvents: Sendable {
    private let handler: (@Sendable (HTTP2Connection.Event) -> Void)?

    init(handler: (@Sendable (HTTP2Connection.Event) -> Void)?) {
        self.handler = handler
    }

    func deliver(_ event: HTTP2Connection.Event) {
        handler?(event)
    }
}

/// The shim's connection pointer. Every h2shim_conn_* function may be called from any thread
/// (they only queue commands to the loop or read atomics), which is what makes sharing it safe.
private struct ShimConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
