extension ConductorError {
    /// What kind of failure this is. A struct rather than an enum: match it in a `switch` with a
    /// `default`, so that a kind added later does not break the caller.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case rpcFailed
            case deadlineExceeded
            case cancelled
            case connectionFailed
            case circuitOpen
            case poolSaturated
            case shutDown
            case invalidConfiguration
            case invalidRequest
            case outboxFull
            case outboxFailed
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// The kind's name, e.g. `circuitOpen`.
        public var description: String { value.rawValue }

        /// The server (or the transport on its behalf) ended the call with a non-OK status.
        public static let rpcFailed = Kind(.rpcFailed)
        /// The call's deadline passed.
        public static let deadlineExceeded = Kind(.deadlineExceeded)
        /// The call was cancelled by the caller.
        public static let cancelled = Kind(.cancelled)
        /// The connection could not be established or was lost.
        public static let connectionFailed = Kind(.connectionFailed)
        /// The circuit breaker for the endpoint is open; no request was sent.
        public static let circuitOpen = Kind(.circuitOpen)
        /// Too many calls are waiting for a connection.
        public static let poolSaturated = Kind(.poolSaturated)
        /// The client has been shut down.
        public static let shutDown = Kind(.shutDown)
        /// The configuration is invalid; see ``ConductorError/message``.
        public static let invalidConfiguration = Kind(.invalidConfiguration)
        /// The request could not be built (for example invalid metadata).
        public static let invalidRequest = Kind(.invalidRequest)
        /// The durable outbox is full (`CONDUCTOR_OUTBOX_MAX_EVENTS` or `_MAX_BYTES`); the event was not accepted.
        public static let outboxFull = Kind(.outboxFull)
        /// The durable outbox could not store or read events (its database failed); see the message.
        public static let outboxFailed = Kind(.outboxFailed)
    }
}
