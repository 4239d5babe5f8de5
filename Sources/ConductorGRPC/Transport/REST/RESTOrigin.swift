/// Where an endpoint's REST requests go: the URL prefix, and how libcurl reaches it.
struct RESTOrigin: Sendable {
    /// `http://host:port` or `https://host:port`, without a trailing slash.
    let baseURL: String
    /// Dial another address than the URL names (a resolved `dns:///` name, `CONDUCTOR_TLS_SERVER_NAME`).
    let connectTo: String?
    let unixSocket: String?
    let usesTLS: Bool
    /// For messages: the endpoint as configured.
    let description: String
    /// `:authority` of an HTTP/2 request: the base URL's `host:port`.
    var authority: Substring { baseURL.drop { $0 != "/" }.dropFirst(2) }

    init(_ endpoint: PoolEndpoint) {
        let scheme = endpoint.endpoint.usesTLS ? "https" : "http"
        usesTLS = endpoint.endpoint.usesTLS
        description = endpoint.endpoint.description
        switch endpoint.endpoint.transport {
        case .unixSocket(let path):
            baseURL = "\(scheme)://localhost"
            connectTo = nil
            unixSocket = path
        case .tcp(let host, let port), .dns(let host, let port):
            let name = endpoint.serverName ?? endpoint.endpoint.resolvedName ?? host
            baseURL = "\(scheme)://\(Self.bracketed(name)):\(port)"
            connectTo = name == host ? nil : "\(Self.bracketed(name)):\(port):\(Self.bracketed(host)):\(port)"
            unixSocket = nil
        }
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}
