/// One address of a conductor, parsed from `CONDUCTOR_BASE_URL`.
///
/// Accepted forms: `grpc://host:port` and `http://host:port` (cleartext HTTP/2 with prior
/// knowledge), `dns:///host:port` (every address the name resolves to is an endpoint, re-resolved
/// periodically), `unix:///path/to/socket`, and `host:port`. IPv6 literals go in brackets:
/// `grpc://[::1]:50051`. `grpcs://` and `https://` are the same over TLS (ALPN h2, verified certificates).
public struct ConductorEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// How the endpoint is reached.
    public enum Transport: Sendable, Hashable {
        /// Cleartext HTTP/2 over TCP.
        case tcp(host: String, port: Int)
        /// Every address `host` resolves to, each an endpoint of its own; re-resolved periodically.
        case dns(host: String, port: Int)
        /// Cleartext HTTP/2 over a unix domain socket.
        case unixSocket(path: String)
    }

    /// How the endpoint is reached.
    public var transport: Transport
    /// Whether the connection is TLS (`grpcs://`, `https://`).
    public var usesTLS: Bool
    /// For an address found by resolving a `dns:///` name: that name, which the server's
    /// certificate is checked against.
    var resolvedName: String?

    /// Creates an endpoint.
    public init(_ transport: Transport, usesTLS: Bool = false) {
        self.transport = transport
        self.usesTLS = usesTLS
    }

    /// `host:port`, `[v6]:port` or `unix:/path`.
    public var description: String {
        switch transport {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .dns(let host, let port): "dns:///\(host):\(port)"
        case .unixSocket(let path): "unix:\(path)"
        }
    }

    /// The HTTP/2 `:authority` for requests to this endpoint.
    var authority: String {
        switch transport {
        case .tcp: description
        case .dns(let host, let port): "\(host):\(port)"
        case .unixSocket: "localhost"
        }
    }

    /// Parses one URL. The error message names the URL and says what is wrong.
    public static func parse(_ text: String) throws(ConductorError) -> ConductorEndpoint {
        let url = text.trimmingWhitespace()
        func invalid(_ why: String) -> ConductorError {
            .invalidConfiguration("CONDUCTOR_BASE_URL entry \"\(url)\" is invalid: \(why)")
        }
        var rest = Substring(url)
        var scheme = "grpc"
        if let separator = url.firstRange(of: "://") {
            scheme = url[..<separator.lowerBound].lowercased()
            rest = url[separator.upperBound...]
        }
        var isDNS = false
        switch scheme {
        case "grpc", "http":
            break
        case "dns":
            guard rest.hasPrefix("/") else { throw invalid("write dns:///host:port (three slashes)") }
            rest = rest.drop { $0 == "/" }
            isDNS = true
        case "grpcs", "https":
            break
        case "unix":
            let path = rest.hasPrefix("/") ? String(rest) : "/" + rest
            guard path.count > 1 else { throw invalid("unix:// needs an absolute socket path, e.g. unix:///run/conductor.sock") }
            return ConductorEndpoint(.unixSocket(path: path))
        default:
            throw invalid("unknown scheme \"\(scheme)\" (use grpc://, grpcs://, http://, https://, dns:///, or unix://)")
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...].allSatisfy({ $0 == "/" }) else { throw invalid("a path is not allowed after host:port") }
            rest = rest[..<slash]
        }
        let host: Substring
        let portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("missing ] after IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            portText = after.isEmpty ? nil : (after.hasPrefix(":") ? after.dropFirst() : nil)
            if !after.isEmpty && portText == nil { throw invalid("expected :port after ]") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
            if host.contains(":") { throw invalid("IPv6 addresses must be written in brackets, e.g. grpc://[::1]:50051") }
        } else {
            host = rest
            portText = nil
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port must be a number in 1...65535")
            }
            port = value
        } else {
            port = scheme == "http" ? 80 : scheme == "https" ? 443 : 50051
        }
        let tls = scheme == "grpcs" || scheme == "https"
        return ConductorEndpoint(isDNS ? .dns(host: String(host), port: port) : .tcp(host: String(host), port: port), usesTLS: tls)
    }

    /// Parses a comma-separated list of URLs.
    public static func parseList(_ text: String) throws(ConductorError) -> [ConductorEndpoint] {
        let parts = text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw .invalidConfiguration("CONDUCTOR_BASE_URL is empty: give a URL such as grpc://conductor:50051") }
        var endpoints: [ConductorEndpoint] = []
        for part in parts { endpoints.append(try parse(part)) }
        return endpoints
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
