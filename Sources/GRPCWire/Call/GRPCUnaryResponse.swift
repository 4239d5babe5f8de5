/// A unary call's response as gRPC sees it: the message on success, or the status that ended it.
package struct GRPCUnaryResponse: Sendable {
    /// A failed call.
    package struct Failure: Error, Sendable {
        /// The status the call ended with.
        package var status: GRPCStatus
        /// True when the request provably never reached the server application (not sent,
        /// REFUSED_STREAM, above a GOAWAY's last-stream-id): safe to send again, even a write.
        package var provablyNotProcessed: Bool
        /// The server's `grpc-retry-pushback-ms`, if it sent one.
        package var retryPushback: RetryPushback?
        /// True when the connection failed or could not be made, rather than the server answering.
        package var connectionLevel = false
        /// True when the server reset the stream with REFUSED_STREAM (or it sat above a GOAWAY's
        /// last-stream-id): the connection had no room for it.
        package var refusedStream = false
        /// True when the server turned the stream away before answering it (REFUSED_STREAM or
        /// ENHANCE_YOUR_CALM before any response headers): flow control, not a sign of ill health.
        package var turnedAway = false
        /// True once response headers arrived before the status (not Trailers-Only): the server
        /// committed to this attempt, so it is not retried (gRPC A6).
        package var committed = false
    }

    /// The server's instruction about retrying (`grpc-retry-pushback-ms`).
    package enum RetryPushback: Sendable, Equatable {
        /// Retry after exactly this delay.
        case retryAfter(Duration)
        /// Do not retry (a negative or unparsable value).
        case doNotRetry
    }

    /// The decoded message bytes, or the failure.
    package var result: Result<[UInt8], Failure>
    /// The response's first header block, as the transport kept it.
    package var headers: [(name: String, value: String)] = []
    /// The response's trailers (for a Trailers-Only response, its only header block).
    package var trailers: [(name: String, value: String)] = []
}

extension GRPCUnaryResponse {
    /// Changes the failure, if this is one.
    mutating func mark(_ change: (inout Failure) -> Void) {
        guard case .failure(var failure) = result else { return }
        change(&failure)
        result = .failure(failure)
    }
}
