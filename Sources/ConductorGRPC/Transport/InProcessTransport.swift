import GRPCWire
import LockedState

/// Connections that lead to ``InMemoryConductor``s instead of sockets: each endpoint of the
/// configuration to its conductor. Everything above the transport — pool, retries, breaker,
/// budget, deadlines, cache — is the real client's. A connection is ready at once (or refused,
/// when its conductor ``InMemoryConductor/refusesConnections``), allows 100 streams, and
/// enforces each exchange's deadline as the shim does.
struct InProcessTransport: ConductorTransport {
    let conductors: [ConductorEndpoint: InMemoryConductor]

    func connect(
        to endpoint: PoolEndpoint,
        settings: TransportConnectionSettings,
        onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void
    ) -> any TransportConnection {
        let conductor = conductors[endpoint.endpoint]
        let connection = InProcessConnection(conductor: conductor, onEvent: onEvent)
        if let conductor, !conductor.refusesConnections {
            onEvent(.ready(maxConcurrentStreams: 100))
        } else {
            connection.close(reason: "connection refused (in process)", orderly: false)
        }
        return connection
    }
}

/// One in-process connection: its exchanges run as tasks that ``abort()`` cancels.
final class InProcessConnection: TransportConnection {
    private struct State {
        var accepting = true
        var closed = false
        var aborted = false
        var nextID = 0
        var exchanges: [Int: Task<HTTP2StreamResult, Never>] = [:]

        /// Whether a shut-down connection has just become idle: it closes (once).
        mutating func takeCloseIfDone() -> Bool {
            guard !accepting, !closed, exchanges.isEmpty else { return false }
            closed = true
            return true
        }
    }

    private let conductor: InMemoryConductor?
    private let onEvent: @Sendable (HTTP2Connection.Event) -> Void
    private let state = Locked(State())

    init(conductor: InMemoryConductor?, onEvent: @escaping @Sendable (HTTP2Connection.Event) -> Void) {
        self.conductor = conductor
        self.onEvent = onEvent
    }

    func exchange(headers: HTTP2HeaderBlock, body: [UInt8], timeout: Duration?, maximumResponseBytes: Int,
                  keepingAllHeaders: Bool) async -> HTTP2StreamResult {
        guard let conductor else { return HTTP2StreamResult(outcome: .notSent(reason: "no in-memory conductor")) }
        let fields = headers.fields
        let path = fields.first { $0.name == ":path" }?.value ?? ""
        let started = state.withLock { state -> (id: Int, work: Task<HTTP2StreamResult, Never>)? in
            guard state.accepting else { return nil }
            state.nextID += 1
            let work = Task { await conductor.reply(to: path, headers: fields, body: body, deadline: timeout) }
            state.exchanges[state.nextID] = work
            return (state.nextID, work)
        }
        guard let (id, work) = started else { return HTTP2StreamResult(outcome: .notSent(reason: "connection closed")) }
        var result = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        let (aborted, closes) = state.withLock { state -> (Bool, Bool) in
            state.exchanges[id] = nil
            return (state.aborted, state.takeCloseIfDone())
        }
        if aborted, result.outcome == .cancelled, !Task.isCancelled {
            result = HTTP2StreamResult(outcome: .connectionLost(reason: "connection closed by the client"))
        } else if result.outcome == .complete, result.body.count > maximumResponseBytes {
            result = HTTP2StreamResult(outcome: .responseTooLarge)
        }
        if closes { onEvent(.closed(reason: "closed by the client", orderly: true)) }
        return result
    }

    /// Stops new exchanges; closes once the open ones have finished.
    func shutdown() {
        let closes = state.withLock { state -> Bool in
            state.accepting = false
            return state.takeCloseIfDone()
        }
        if closes { onEvent(.closed(reason: "closed by the client", orderly: true)) }
    }

    /// Fails every open exchange (`CONNECTION_LOST`) and closes now.
    func abort() {
        let work = state.withLock { state -> [Task<HTTP2StreamResult, Never>] in
            state.accepting = false
            state.aborted = true
            return Array(state.exchanges.values)
        }
        work.forEach { $0.cancel() }
        close(reason: "closed by the client", orderly: false)
    }

    /// Ends the connection (once; `CLOSED` is its last event).
    func close(reason: String, orderly: Bool) {
        let first = state.withLock { state -> Bool in
            state.accepting = false
            defer { state.closed = true }
            return !state.closed
        }
        if first { onEvent(.closed(reason: reason, orderly: orderly)) }
    }

    var transportStatistics: HTTP2Connection.Statistics? { nil }
}
