import GRPCWire
import BridgeResilience
@testable import ConductorGRPC
import LockedState

/// An in-process transport whose connections and exchanges the test drives by hand: it decides
/// when a connection becomes ready (and with which stream limit), fails or drains it, and answers
/// each exchange. Nothing touches a socket.
final class ScriptedTransport: ConductorTransport {
    let clock: ManualCallClock
    /// Every connection the pool opened, in order.
    let connections = AsyncQueue<ScriptedConnection>()
    private let opened = Locked<[ScriptedConnection]>([])

    init(clock: ManualCallClock) {
        self.clock = clock
    }

    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection {
        let connection = ScriptedConnection(endpoint: endpoint.endpoint.description, settings: settings, clock: clock,
                                            onEvent: onEvent)
        opened.withLock { $0.append(connection) }
        connections.push(connection)
        return connection
    }

    /// Every connection opened so far.
    var allConnections: [ScriptedConnection] { opened.withLock { $0 } }
}

/// One scripted connection.
final class ScriptedConnection: TransportConnection {
    let endpoint: String
    let settings: TransportConnectionSettings
    private let clock: ManualCallClock
    private let onEvent: @Sendable (HTTP2Connection.Event) -> Void
    /// Every exchange started on this connection, in order.
    let exchanges = AsyncQueue<ScriptedExchange>()
    private let counters = Locked((started: 0, open: 0, peakOpen: 0, shutDown: false, aborted: false))
    private let live = Locked<[ObjectIdentifier: ScriptedExchange]>([:])

    init(endpoint: String, settings: TransportConnectionSettings, clock: ManualCallClock,
         onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) {
        self.endpoint = endpoint
        self.settings = settings
        self.clock = clock
        self.onEvent = onEvent
    }

    /// The server's SETTINGS arrive (`UInt32.max`: no limit advertised).
    func becomeReady(maxConcurrentStreams: UInt32 = 100) { onEvent(.ready(maxConcurrentStreams: maxConcurrentStreams)) }
    func goaway(lastStreamID: UInt32 = 0, detail: String = "NO_ERROR") { onEvent(.goaway(lastStreamID: lastStreamID, detail: detail)) }
    func close(reason: String = "connection refused", orderly: Bool = false) { onEvent(.closed(reason: reason, orderly: orderly)) }

    var started: Int { counters.withLock { $0.started } }
    var open: Int { counters.withLock { $0.open } }
    var peakOpen: Int { counters.withLock { $0.peakOpen } }
    var wasShutDown: Bool { counters.withLock { $0.shutDown } }
    var wasAborted: Bool { counters.withLock { $0.aborted } }

    func exchange(headers: HTTP2HeaderBlock, body: [UInt8], timeout: Duration?, maximumResponseBytes: Int,
                  keepingAllHeaders: Bool) async -> HTTP2StreamResult {
        counters.withLock { counters in
            counters.started += 1
            counters.open += 1
            counters.peakOpen = max(counters.peakOpen, counters.open)
        }
        defer { counters.withLock { $0.open -= 1 } }
        let exchange = ScriptedExchange(headers: headers.fields, body: body)
        live.withLock { $0[ObjectIdentifier(exchange)] = exchange }
        defer { live.withLock { $0[ObjectIdentifier(exchange)] = nil } }
        // The local deadline, as the shim enforces it; cancelled once the exchange ends otherwise.
        let deadlineTimer = timeout.map { timeout in
            Task { [clock] in
                guard (try? await clock.sleep(until: clock.now() + timeout, isExchangeDeadline: true)) != nil else { return }
                exchange.respond(HTTP2StreamResult(outcome: .deadlineExceeded))
            }
        }
        defer { deadlineTimer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<HTTP2StreamResult, Never>) in
                exchange.install(continuation)
                exchanges.push(exchange)
            }
        } onCancel: {
            exchange.respond(HTTP2StreamResult(outcome: .cancelled))
        }
    }

    func shutdown() { counters.withLock { $0.shutDown = true } }

    /// As the shim: every open exchange fails with the connection, then the connection closes.
    func abort() {
        counters.withLock { $0.aborted = true }
        for exchange in live.withLock({ Array($0.values) }) {
            exchange.respond(HTTP2StreamResult(outcome: .connectionLost(reason: "connection closed by the client")))
        }
        close(reason: "closed by the client")
    }

    var transportStatistics: HTTP2Connection.Statistics? { nil }
}

/// One request the test answers.
final class ScriptedExchange: Sendable {
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    private enum State {
        case waiting(CheckedContinuation<HTTP2StreamResult, Never>?)
        case answered(HTTP2StreamResult?)
    }

    private let state = Locked(State.waiting(nil))

    init(headers: [(name: String, value: String)], body: [UInt8]) {
        self.headers = headers
        self.body = body
    }

    /// The exchange waits here; an answer given before that is delivered at once.
    fileprivate func install(_ continuation: CheckedContinuation<HTTP2StreamResult, Never>) {
        let early = state.withLock { state -> HTTP2StreamResult? in
            switch state {
            case .waiting: state = .waiting(continuation); return nil
            case .answered(let result): state = .answered(nil); return result
            }
        }
        if let early { continuation.resume(returning: early) }
    }

    /// The value of a request header.
    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// Ends the exchange (the first answer wins; later ones are ignored).
    func respond(_ result: HTTP2StreamResult) {
        let continuation = state.withLock { state -> CheckedContinuation<HTTP2StreamResult, Never>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .answered(continuation == nil ? result : nil)
            return continuation
        }
        continuation?.resume(returning: result)
    }

    /// A successful answer carrying `message` (protobuf bytes).
    func succeed(_ message: [UInt8]) {
        respond(HTTP2StreamResult(outcome: .complete, headers: Self.okHeaders, trailers: [("grpc-status", "0")],
                                  body: [0] + Self.bigEndian(UInt32(message.count)) + message))
    }

    /// A Trailers-Only answer with `code`; `pushbackMilliseconds` adds `grpc-retry-pushback-ms`.
    func fail(_ code: GRPCStatusCode, message: String = "scripted failure", pushback: String? = nil) {
        var fields = Self.okHeaders + [("grpc-status", String(code.rawValue)), ("grpc-message", message)]
        if let pushback { fields.append(("grpc-retry-pushback-ms", pushback)) }
        respond(HTTP2StreamResult(outcome: .complete, headers: fields))
    }

    /// Response headers, then trailers with `code`: the server committed to this attempt.
    func failAfterHeaders(_ code: GRPCStatusCode) {
        respond(HTTP2StreamResult(outcome: .complete, headers: Self.okHeaders, trailers: [("grpc-status", String(code.rawValue))]))
    }

    /// RST_STREAM(REFUSED_STREAM) before any response.
    func refuse() { respond(HTTP2StreamResult(outcome: .reset(errorCode: 7))) }

    private static let okHeaders: [(name: String, value: String)] = [(":status", "200"), ("content-type", "application/grpc")]

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}
