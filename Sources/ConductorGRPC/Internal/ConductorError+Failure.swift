extension ConductorError {
    /// The error for a call that ended with a non-OK gRPC status.
    init(_ failure: GRPCUnaryResponse.Failure, method: ConductorMethod, endpoint: String, attempts: Int) {
        let kind: Kind
        switch failure.status.code {
        case .deadlineExceeded: kind = .deadlineExceeded
        case .cancelled: kind = .cancelled
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
