import GRPCWire

/// The transport of `CONDUCTOR_PROTOCOL=http`: REST requests through libcurl (the REST loop in
/// `CRESTShim`), HTTP/1.1 with keep-alive on `http://`, HTTP/2 when the server offers it by ALPN
/// on `https://`.
///
/// A pool connection is a lane to one endpoint: it becomes ready once a probe connected (TCP, and
/// TLS with the configured certificates), so unreachable endpoints fail in the pool's connection
/// backoff and open its breaker exactly as gRPC endpoints do. Its stream limit is 1 on `http://`
/// (one HTTP/1.1 request per keep-alive connection: the pool opens up to
/// `CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT`) and 100 on `https://` until a response shows the
/// server chose HTTP/1.1. The sockets themselves are libcurl's, reused across requests.
struct RESTTransport: ConductorTransport {
    let tls: RESTTLSSettings
    /// `CONDUCTOR_SUBMIT_DEDUPLICATED=false`: a write must never go twice, so it goes on a new
    /// connection, where libcurl never re-sends it by itself.
    let writesOnFreshConnections: Bool
    /// The client's own loop: its connections close with it.
    let loop: RESTLoop

    init(configuration: ConductorConfiguration) throws(ConductorError) {
        tls = RESTTLSSettings(caFile: configuration.tlsCAFile, certificateFile: configuration.tlsCertificateFile,
                              keyFile: configuration.tlsKeyFile)
        writesOnFreshConnections = !configuration.submitsAreDeduplicated
        loop = try RESTLoop()
    }

    var loopExecutor: (any TaskExecutor)? { loop.executor }

    /// Closes every connection of the client (requests still running end as cancelled) and
    /// returns once they are closed.
    func close() async {
        await loop.close()
    }

    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection {
        let connection = RESTConnection(origin: RESTOrigin(endpoint), tls: tls, writesOnFreshConnections: writesOnFreshConnections,
                                        loop: loop, onEvent: onEvent)
        connection.probe(timeout: settings.connectTimeout)
        return connection
    }
}
