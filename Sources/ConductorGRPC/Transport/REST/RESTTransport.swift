import GRPCWire
import LockedState

/// The transport of `CONDUCTOR_PROTOCOL=http`: HTTP/1.1 with keep-alive through libcurl (the REST
/// loop in `CRESTShim`) on `http://`; on `https://`, HTTP/2 on the client's own HTTP/2 transport
/// when the server picks h2 by ALPN (``RESTHTTP2Connection``), libcurl's HTTP/1.1 otherwise.
///
/// A libcurl pool connection is a lane to one endpoint: it becomes ready once a probe connected
/// (TCP, and TLS with the configured certificates), so unreachable endpoints fail in the pool's
/// connection backoff and open its breaker exactly as gRPC endpoints do. Its stream limit is 1
/// (one HTTP/1.1 request per keep-alive connection: the pool opens up to
/// `CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT`). The sockets themselves are libcurl's, reused across
/// requests.
struct RESTTransport: ConductorTransport {
    let tls: RESTTLSSettings
    /// `CONDUCTOR_SUBMIT_DEDUPLICATED=false`: a write must never go twice, so it goes on a new
    /// connection, where libcurl never re-sends it by itself.
    let writesOnFreshConnections: Bool
    /// The client's own loop: its connections close with it.
    let loop: RESTLoop
    /// The HTTP/2 connections' options (as gRPC's).
    let http2: NGHTTP2Transport
    /// Every endpoint is `https://`: calls complete on the HTTP/2 loop, unless a server picks HTTP/1.1.
    let allEndpointsUseTLS: Bool
    /// Base URLs of `https://` endpoints whose server picked HTTP/1.1: their next lanes go to
    /// libcurl at once (one TLS handshake, not two), for the client's life.
    private let http1Origins = Locked<Set<String>>([])

    init(configuration: ConductorConfiguration) throws(ConductorError) {
        tls = RESTTLSSettings(caFile: configuration.tlsCAFile, certificateFile: configuration.tlsCertificateFile,
                              keyFile: configuration.tlsKeyFile)
        writesOnFreshConnections = !configuration.submitsAreDeduplicated
        loop = try RESTLoop()
        http2 = NGHTTP2Transport(configuration: configuration)
        allEndpointsUseTLS = configuration.endpoints.allSatisfy(\.usesTLS)
    }

    var loopExecutor: (any TaskExecutor)? { allEndpointsUseTLS ? http2.loopExecutor : loop.executor }

    /// Closes the libcurl loop and with it every libcurl connection (requests still running end
    /// as cancelled), and returns once they are closed. The HTTP/2 lanes are shut down by the
    /// pool, as gRPC connections are.
    func close() async {
        await loop.close()
    }

    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection {
        let origin = RESTOrigin(endpoint)
        let makeHTTP1 = { @Sendable [tls, writesOnFreshConnections, loop] (onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) in
            RESTConnection(origin: origin, tls: tls, writesOnFreshConnections: writesOnFreshConnections, loop: loop, onEvent: onEvent)
        }
        guard origin.usesTLS, !http1Origins.withLock({ $0.contains(origin.baseURL) }) else {
            let connection = makeHTTP1(onEvent)
            connection.probe(timeout: settings.connectTimeout)
            return connection
        }
        let http1Origins = http1Origins
        let switchToHTTP1 = { @Sendable (onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) in
            http1Origins.withLock { _ = $0.insert(origin.baseURL) }
            return makeHTTP1(onEvent)
        }
        return RESTHTTP2Connection(endpoint: endpoint, origin: origin, options: http2.options(for: endpoint, settings: settings),
                                   connectTimeout: settings.connectTimeout, makeHTTP1: switchToHTTP1, onEvent: onEvent)
    }
}
