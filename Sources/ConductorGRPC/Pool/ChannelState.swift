/// Where one pooled HTTP/2 connection is in its life.
public enum ChannelState: String, Sendable, Hashable, CaseIterable {
    /// No connection; one opens when a call needs it.
    case idle
    /// Connecting, up to the server's first SETTINGS; calls wait for it.
    case connecting
    /// Connected and usable.
    case ready
    /// The last connection attempt failed; the next waits for the reconnect backoff.
    case transientFailure = "transient_failure"
    /// The client shut down.
    case shutdown
}
