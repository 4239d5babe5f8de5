/// An event submitted to the conductor.
public struct ConductorEvent: Sendable, Hashable {
    /// What kind of event this is, e.g. `message.created`.
    public var eventType: String
    /// The epoch the event belongs to.
    public var epoch: Int32
    /// The event's opaque content.
    public var payload: [UInt8]
    /// Free-form string attributes.
    public var metadata: [String: String]

    /// Creates an event.
    public init(eventType: String, epoch: Int32, payload: [UInt8] = [], metadata: [String: String] = [:]) {
        self.eventType = eventType
        self.epoch = epoch
        self.payload = payload
        self.metadata = metadata
    }
}

/// The conductor's acknowledgement of one event.
public struct ConductorReceipt: Sendable, Hashable {
    /// Identifies the event's content: the same event submitted twice has the same hash, which is
    /// what makes a retried submit safe to deduplicate.
    public var eventHash: String
    /// The epoch the conductor recorded the event under.
    public var epoch: Int32

    /// Creates a receipt.
    public init(eventHash: String, epoch: Int32) {
        self.eventHash = eventHash
        self.epoch = epoch
    }
}

/// The conductor's proof for one day.
public struct DayProof: Sendable, Hashable {
    /// The day the proof is for.
    public var dayNumber: Int32
    /// The proof itself.
    public var proof: String
    /// A hash of the proof.
    public var proofHash: String
    /// A canonical proof never changes afterwards, so it may be cached for good.
    public var canonical: Bool
    /// Where the proof came from.
    public var source: String

    /// Creates a day proof.
    public init(dayNumber: Int32, proof: String, proofHash: String, canonical: Bool, source: String) {
        self.dayNumber = dayNumber
        self.proof = proof
        self.proofHash = proofHash
        self.canonical = canonical
        self.source = source
    }
}

/// A conductor's answer to a health check.
public enum ServingStatus: Sendable, Hashable, CustomStringConvertible {
    /// The conductor did not say.
    case unknown
    /// The conductor serves requests.
    case serving
    /// The conductor is up but does not serve requests.
    case notServing
    /// The standard health service does not know the service name asked about.
    case serviceUnknown

    /// `SERVING`, `NOT_SERVING`, `UNKNOWN` or `SERVICE_UNKNOWN`.
    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .serving: "SERVING"
        case .notServing: "NOT_SERVING"
        case .serviceUnknown: "SERVICE_UNKNOWN"
        }
    }
}
