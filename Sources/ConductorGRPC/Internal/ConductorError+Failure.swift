extension ConductorError {
    /// The error for a call that ended with a non-OK gRPC status.
    /// `cancelledByCaller` tells a CANCELLED of the caller's own making from one the server sent.
    init(_ failure: GRPCUnaryResponse.Failure, method: ConductorMethod, endpoint: String, attempts: Int, cancelledByCaller: Bool = false) {
        let kind: Kind
        switch failure.status.code {
        case .deadlineExceeded: kind = .deadlineExceeded
        case .cancelled where cancelledByCaller: kind = .cancelled
        case .unavailable where failure.provablyNotProcessed: kind = .connectionFailed
        default: kind = .rpcFailed
        }
        let retryable: Bool
        switch failure.status.code {
        case .unavailable, .resourceExhausted, .aborted, .deadlineExceeded: retryable = true
        default: retryable = false
        }
        self.init(kind: kind, code: failure.status.code, message: failure.status.message, method: method,
                  endpoint: endpoint, attempts: attempts, isRetryable: retryable)
    }
}
