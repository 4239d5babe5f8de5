import BridgeResilience

/// One pooled connection place of an endpoint, as the pool state machine sees it.
struct PoolSlot: Sendable {
    /// Where the slot's connection is in its life.
    enum Phase: Sendable, Equatable {
        /// No connection; one opens when the pool needs it.
        case idle
        /// Connecting: no stream may open until the server's SETTINGS say how many it accepts.
        case connecting
        /// The server's SETTINGS arrived; streams may open up to ``PoolSlot/limit``.
        case ready
        /// The last connection attempt failed; the next waits until `retryAt` (reconnect backoff).
        case transientFailure(retryAt: MonotonicInstant)
        /// The pool shut down.
        case shutdown
    }

    /// The stream limit assumed when a server advertises none (RFC 9113 says unlimited; common
    /// servers, SwiftNIO's among them, still enforce 100, and grpc-swift-2's client caps itself so).
    static let unadvertisedStreamLimit = 100

    var phase = Phase.idle
    /// Bumped whenever the slot's connection is replaced, so late events of an old one are ignored.
    var generation = 0
    /// The connection object, once the transport handed it over (events may come first).
    var connection: (any TransportConnection)?
    /// Streams leased on the current connection and not yet checked in.
    var outstanding = 0
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (capped at ``unadvertisedStreamLimit`` when unlimited).
    var advertisedLimit = PoolSlot.unadvertisedStreamLimit
    /// The streams the pool opens at most: the advertised limit, lowered to the streams still open
    /// when the server refuses one (its own accounting lags), and raised by one per success.
    var limit = PoolSlot.unadvertisedStreamLimit
    /// Failed connection attempts in a row (reset by the server's SETTINGS).
    var connectFailures = 0
    var lastError: String?
    var calls = 0
    var failures = 0
    var connectionsOpened = 0

    /// Whether a stream may be leased here now.
    var hasFreeStream: Bool {
        phase == .ready && connection != nil && outstanding < limit
    }

    /// Ready (or about to be, once the transport hands the object over) with every stream taken.
    var isFull: Bool {
        phase == .ready && outstanding >= limit
    }

    /// Full at the server's own limit, not merely at a limit lowered after a refusal: only then
    /// does another connection to the endpoint add capacity.
    var isFullAtAdvertisedLimit: Bool {
        phase == .ready && outstanding >= advertisedLimit
    }

    /// Whether the pool may start connecting here now.
    func mayConnect(at now: MonotonicInstant) -> Bool {
        switch phase {
        case .idle: true
        case .transientFailure(let retryAt): retryAt <= now
        case .connecting, .ready, .shutdown: false
        }
    }

    /// The public name of the phase.
    var channelState: ChannelState {
        switch phase {
        case .idle: .idle
        case .connecting: .connecting
        case .ready: .ready
        case .transientFailure: .transientFailure
        case .shutdown: .shutdown
        }
    }

    /// Forgets the current connection (it finishes its own streams): the slot is idle again.
    mutating func retire() {
        phase = .idle
        connection = nil
        generation += 1
        outstanding = 0
        advertisedLimit = Self.unadvertisedStreamLimit
        limit = Self.unadvertisedStreamLimit
    }
}
