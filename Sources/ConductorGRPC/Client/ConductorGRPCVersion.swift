/// The library's version: the one place it is written (`conductor-smoke --version` and the
/// `user-agent` header read it here).
public enum ConductorGRPCVersion {
    /// The version string, e.g. `0.2.0`.
    public static let string = "0.2.0"

    /// The `user-agent` header every request carries.
    static let userAgent = "conductor-grpc-swift/\(string)"
}
