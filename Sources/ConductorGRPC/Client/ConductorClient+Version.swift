extension ConductorClient {
    /// The library's version, e.g. `0.2.0`: the one place it is written (`conductor-smoke
    /// --version` and the `user-agent` header read it here).
    public static let version = "0.2.0"

    /// The `user-agent` header every request carries.
    static let userAgent = "conductor-grpc-swift/\(version)"
}
