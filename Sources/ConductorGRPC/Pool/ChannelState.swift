/// Where one pooled HTTP/2 connection is in its life.
public enum ChannelState: String, Sendable, Hashable {
    /// No connection; one opens when a call needs it.
    case idle
    /// Connecting; calls may already be sent (they leave once the socket is up).
    case connecting
    /// Connected and usable.
    case ready
    /// The last connection attempt failed; the next waits for the reconnect backoff.
    case transientFailure = "transient_failure"
    /// The client shut down.
    case shutdown
}
