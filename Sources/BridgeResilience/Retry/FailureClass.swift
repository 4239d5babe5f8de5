/// How a failed attempt failed, as far as retrying is concerned.
///
/// The caller maps its protocol's errors into these classes; the retry policy knows nothing
/// about gRPC. For gRPC: connect failures, REFUSED_STREAM, streams above a GOAWAY's
/// last-stream-id and an open circuit breaker are `.notSent`; UNAVAILABLE, RESOURCE_EXHAUSTED and
/// ABORTED map to their namesakes; a per-attempt DEADLINE_EXCEEDED is `.attemptDeadlineExceeded`;
/// everything else (INVALID_ARGUMENT, NOT_FOUND, INTERNAL, …) is `.permanent`.
public enum FailureClass: Sendable, Hashable, CaseIterable {
    /// The request provably never reached the server application, so retrying it is always safe.
    case notSent
    /// The server or the path to it is unavailable; the request may or may not have been processed.
    case unavailable
    /// The server is out of some resource (rate limit, quota, memory).
    case resourceExhausted
    /// The server aborted the operation, typically on a concurrency conflict.
    case aborted
    /// This attempt ran out of time, while the call as a whole still has time left.
    case attemptDeadlineExceeded
    /// Retrying cannot help (bad request, not found, denied, internal error…).
    case permanent
}
