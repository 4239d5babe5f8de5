import GRPCWire
import LockedState

/// One HTTP/1.1 pool connection of the REST transport (see ``RESTTransport``): translates each
/// exchange (``RESTTranslation``), runs it through libcurl, and reports its lifecycle to the pool.
/// It carries one request at a time: over `http://`, and over `https://` once the server picked
/// HTTP/1.1 by ALPN (``RESTHTTP2Connection`` makes it then).
final class RESTConnection: TransportConnection {
    private struct State {
        var accepting = true
        var ready = false
        var closed = false
        var aborted = false
        var nextID = 0
        var exchanges: [Int: CurlExchange] = [:]
        var probe: CurlExchange?

        /// Whether a shut-down connection has just become idle: it closes (once).
        mutating func takeCloseIfDone() -> Bool {
            guard !accepting, !closed, exchanges.isEmpty else { return false }
            closed = true
            return true
        }
    }

    private static let userAgent = "\(ConductorClient.userAgent) (REST; libcurl)"

    private let origin: RESTOrigin
    /// Writes go on new connections (the conductor does not deduplicate submits): see
    /// ``CurlExchange/Request/freshConnection``.
    private let writesOnFreshConnections: Bool
    private let target: RESTTarget
    private let loop: RESTLoop
    private let onEvent: @Sendable (HTTP2Connection.Event) -> Void
    private let state = Locked(State())

    init(origin: RESTOrigin, tls: RESTTLSSettings, writesOnFreshConnections: Bool, loop: RESTLoop, onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) {
        self.origin = origin
        self.writesOnFreshConnections = writesOnFreshConnections
        self.target = RESTTarget(origin: origin, tls: tls, userAgent: Self.userAgent)
        self.loop = loop
        self.onEvent = onEvent
    }

    /// Connects once (TCP and TLS) without a request: ready on success, closed with the reason otherwise.
    func probe(timeout: Duration) {
        let probe = CurlExchange()
        guard state.withLock({ state -> Bool in
            guard state.accepting else { return false }
            state.probe = probe
            return true
        }) else { return }
        let request = CurlExchange.Request(path: "/", post: false, metadata: [], body: [], timeout: timeout,
                                           maximumResponseBytes: 0, connectOnly: true)
        Task {
            let response = await probe.run(request, to: target, on: loop)
            let ready = state.withLock { state -> Bool in
                state.probe = nil
                guard state.accepting, response.outcome == .complete else { return false }
                state.ready = true
                return true
            }
            if ready {
                onEvent(.ready(maxConcurrentStreams: 1))
            } else {
                close(reason: "cannot connect to \(origin.description): \(response.detail)", orderly: false)
            }
        }
    }

    func exchange(headers: HTTP2HeaderBlock, body: [UInt8], timeout: Duration?, maximumResponseBytes: Int,
                  keepingAllHeaders: Bool) async -> HTTP2StreamResult {
        let head = RESTCallHead(headers)
        let outgoing: RESTTranslation.Outgoing
        switch RESTTranslation.outgoing(path: head.path, body: body, encoding: head.encoding) {
        case .send(let request): outgoing = request
        case .answer(let answer): return answer
        }
        let exchange = CurlExchange()
        guard let id = state.withLock({ state -> Int? in
            guard state.accepting else { return nil }
            state.nextID += 1
            state.exchanges[state.nextID] = exchange
            return state.nextID
        }) else {
            return HTTP2StreamResult(outcome: .notSent(reason: "connection closed"))
        }
        let request = CurlExchange.Request(path: outgoing.path, post: outgoing.post, metadata: head.headerLines, body: outgoing.body,
                                           timeout: timeout,
                                           maximumResponseBytes: RESTTranslation.jsonAllowance(forMaximumResponseBytes: maximumResponseBytes),
                                           freshConnection: outgoing.post && writesOnFreshConnections)
        let response = await exchange.run(request, to: target, on: loop)
        let (aborted, closes) = state.withLock { state -> (Bool, Bool) in
            state.exchanges[id] = nil
            return (state.aborted, state.takeCloseIfDone())
        }
        var result = RESTTranslation.answer(response, to: outgoing, origin: origin.description,
                                            maximumResponseBytes: maximumResponseBytes)
        if aborted, response.outcome == .cancelled, !Task.isCancelled {
            result = HTTP2StreamResult(outcome: .connectionLost(reason: "connection closed by the client"))
        }
        if closes {
            onEvent(.closed(reason: "closed by the client", orderly: true))
        } else if response.outcome == .notSent || response.outcome == .connectionLost {
            // The endpoint stopped answering: the pool replaces this lane (through a new probe, with backoff).
            close(reason: response.detail, orderly: false)
        }
        return result
    }

    /// Stops new exchanges; closes once the open ones have finished.
    func shutdown() {
        let (closes, probe) = state.withLock { state -> (Bool, CurlExchange?) in
            state.accepting = false
            defer { state.probe = nil }
            return (state.takeCloseIfDone(), state.probe)
        }
        probe?.cancel()
        if closes { onEvent(.closed(reason: "closed by the client", orderly: true)) }
    }

    /// Fails every open exchange (`CONNECTION_LOST`) and closes now.
    func abort() {
        let (exchanges, probe) = state.withLock { state -> ([CurlExchange], CurlExchange?) in
            state.accepting = false
            state.aborted = true
            defer { state.probe = nil }
            return (Array(state.exchanges.values), state.probe)
        }
        probe?.cancel()
        exchanges.forEach { $0.cancel() }
        close(reason: "closed by the client", orderly: false)
    }

    /// Ends the connection (once; `CLOSED` is its last event).
    private func close(reason: String, orderly: Bool) {
        let first = state.withLock { state -> Bool in
            state.accepting = false
            defer { state.closed = true }
            return !state.closed
        }
        if first { onEvent(.closed(reason: reason, orderly: orderly)) }
    }

    var transportStatistics: HTTP2Connection.Statistics? { nil }
}
