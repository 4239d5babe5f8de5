/// The server's retry advice for a failed attempt (gRPC's `grpc-retry-pushback-ms`), already parsed.
public enum ServerPushback: Sendable, Hashable {
    /// The server gave no advice; the policy's backoff applies.
    case none
    /// Wait exactly this long before retrying (replaces the computed backoff).
    case delay(Duration)
    /// Do not retry (a negative or unparsable pushback value).
    case stop
}
