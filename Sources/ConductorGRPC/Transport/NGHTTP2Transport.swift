import GRPCWire

/// The production transport: HTTP/2 connections on the shim's event loop (nghttp2, OpenSSL).
struct NGHTTP2Transport: ConductorTransport {
    var loopExecutor: (any TaskExecutor)? { LoopTaskExecutor.shared }

    /// Window sizes, header limits and keepalive timeout shared by every connection.
    let baseOptions: HTTP2Connection.Options

    init(configuration: ConductorConfiguration) {
        var options = HTTP2Connection.Options()
        options.keepaliveTimeout = configuration.keepaliveTimeout
        // A 4 MiB message must not wait for window updates; the response limit bounds memory.
        options.streamWindowBytes = max(4 << 20, configuration.maxReceiveMessageBytes + 1024)
        options.connectionWindowBytes = max(16 << 20, options.streamWindowBytes)
        baseOptions = options
    }

    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection {
        HTTP2Connection(target: endpoint.target, options: options(for: endpoint, settings: settings), onEvent: onEvent)
    }

    /// The options of one connection to `endpoint` (the REST transport's HTTP/2 lanes use them too).
    func options(for endpoint: PoolEndpoint, settings: TransportConnectionSettings) -> HTTP2Connection.Options {
        var options = baseOptions
        options.connectTimeout = settings.connectTimeout
        options.keepaliveInterval = settings.keepaliveInterval
        options.tls = endpoint.tls
        options.serverName = endpoint.serverName
        return options
    }
}

extension HTTP2Connection: TransportConnection {
    package var transportStatistics: HTTP2Connection.Statistics? { statistics }
}
