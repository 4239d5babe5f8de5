import GRPCWire
import LockedState

/// A pool connection of the REST transport to an `https://` endpoint. ALPN offers h2 and
/// http/1.1. Over h2 the requests go on the client's own HTTP/2 transport (``HTTP2Connection``:
/// nghttp2 and OpenSSL on the shim's loop, as gRPC calls do), which costs less than half of what
/// libcurl's HTTP/2 costs per call (docs/architecture.md, "REST over HTTP/2"). A server that picks
/// HTTP/1.1 is served by libcurl (``RESTConnection``) on the same lane: the pool sees one
/// connection, ready once the HTTP/1.1 connection is.
final class RESTHTTP2Connection: TransportConnection {
    private static let userAgent = "\(ConductorClient.userAgent) (REST)"
    /// The headers every request carries after its pseudo-headers (conductor-rest-contract.md).
    private static let getHeaders = fixedHeaders(post: false)
    private static let postHeaders = fixedHeaders(post: true)

    private let origin: RESTOrigin
    /// `:method`, `:scheme` and `:authority` of this lane's GETs and POSTs, built once.
    private let getHead: HTTP2HeaderBlock
    private let postHead: HTTP2HeaderBlock
    private let http2: HTTP2Connection
    private let lane: Lane

    /// Starts connecting; `makeHTTP1` makes the libcurl connection of the lane when the server
    /// picks HTTP/1.1 (it reports to the pool's `onEvent`, and is probed here).
    init(endpoint: PoolEndpoint, origin: RESTOrigin, options: HTTP2Connection.Options, connectTimeout: Duration,
         makeHTTP1: @escaping @Sendable (_ onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) -> RESTConnection,
         onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) {
        var options = options
        options.offersHTTP1 = true
        options.plainBodies = true
        self.origin = origin
        getHead = Self.pseudoHeaders(method: "GET", authority: String(origin.authority))
        postHead = Self.pseudoHeaders(method: "POST", authority: String(origin.authority))
        let lane = Lane(onEvent: onEvent, connectTimeout: connectTimeout, makeHTTP1: makeHTTP1)
        self.lane = lane
        http2 = HTTP2Connection(target: endpoint.target, options: options) { lane.handle($0) }
    }

    func exchange(headers: HTTP2HeaderBlock, body: [UInt8], timeout: Duration?, maximumResponseBytes: Int,
                  keepingAllHeaders: Bool) async -> HTTP2StreamResult {
        if let http1 = lane.http1 {
            return await http1.exchange(headers: headers, body: body, timeout: timeout,
                                        maximumResponseBytes: maximumResponseBytes, keepingAllHeaders: keepingAllHeaders)
        }
        let call = RESTCallHead(headers)
        let outgoing: RESTTranslation.Outgoing
        switch RESTTranslation.outgoing(path: call.path, body: body, encoding: call.encoding) {
        case .send(let request): outgoing = request
        case .answer(let answer): return answer
        }
        var request = outgoing.post ? postHead : getHead
        request.append(name: ":path", value: outgoing.path)
        request.append(outgoing.post ? Self.postHeaders : Self.getHeaders)
        request.append(call.metadata)
        let allowance = RESTTranslation.jsonAllowance(forMaximumResponseBytes: maximumResponseBytes)
        let result = await http2.exchange(headers: request, body: outgoing.body, timeout: timeout,
                                          maximumResponseBytes: allowance, keepingAllHeaders: true)
        return RESTTranslation.answer(RESTResponse(http2: result, allowance: allowance), to: outgoing,
                                      origin: origin.description, maximumResponseBytes: maximumResponseBytes)
    }

    func shutdown() {
        if let http1 = lane.stop() { http1.shutdown() } else { http2.shutdown() }
    }

    func abort() {
        if let http1 = lane.stop() { http1.abort() } else { http2.abort() }
    }

    var transportStatistics: HTTP2Connection.Statistics? {
        lane.http1 == nil ? http2.statistics : nil
    }

    private static func pseudoHeaders(method: String, authority: String) -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock()
        block.append(name: ":method", value: method)
        block.append(name: ":scheme", value: "https")
        block.append(name: ":authority", value: authority)
        return block
    }

    private static func fixedHeaders(post: Bool) -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock()
        block.append(name: "accept", value: "application/json")
        block.append(name: "accept-encoding", value: "gzip")
        block.append(name: "user-agent", value: userAgent)
        if post { block.append(name: "content-type", value: "application/json") }
        return block
    }

    /// Which stack carries the lane. The HTTP/2 connection's events come here (not to the
    /// connection object, which holds the HTTP/2 connection: no cycle).
    private final class Lane: Sendable {
        private enum Carrier {
            case http2(stopped: Bool)
            case http1(RESTConnection)
        }

        private let carrier = Locked(Carrier.http2(stopped: false))
        private let onEvent: @Sendable (HTTP2Connection.Event) -> Void
        private let connectTimeout: Duration
        private let makeHTTP1: @Sendable (@escaping @Sendable (HTTP2Connection.Event) -> Void) -> RESTConnection

        init(onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void, connectTimeout: Duration,
             makeHTTP1: @escaping @Sendable (@escaping @Sendable (HTTP2Connection.Event) -> Void) -> RESTConnection) {
            self.onEvent = onEvent
            self.connectTimeout = connectTimeout
            self.makeHTTP1 = makeHTTP1
        }

        var http1: RESTConnection? {
            carrier.withLock { carrier in
                if case .http1(let connection) = carrier { return connection }
                return nil
            }
        }

        /// The pool shut the lane down: an HTTP/1.1 connection to pass it on to, else the
        /// HTTP/2 connection is the one to stop (and no switch happens any more).
        func stop() -> RESTConnection? {
            carrier.withLock { carrier in
                switch carrier {
                case .http1(let connection): return connection
                case .http2: carrier = .http2(stopped: true); return nil
                }
            }
        }

        /// The HTTP/2 connection's events: the pool's, until the server picked HTTP/1.1; from then
        /// on the HTTP/1.1 connection reports, and the HTTP/2 connection's end is not the lane's.
        func handle(_ event: HTTP2Connection.Event) {
            if case .http1Selected = event {
                let switched = carrier.withLock { carrier -> RESTConnection? in
                    guard case .http2(stopped: false) = carrier else { return nil }
                    let connection = makeHTTP1(onEvent)
                    carrier = .http1(connection)
                    return connection
                }
                switched?.probe(timeout: connectTimeout)
                return
            }
            if http1 == nil { onEvent(event) }
        }
    }
}
