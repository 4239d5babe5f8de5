/// The library's version, sent in the `user-agent` header.
public enum ConductorGRPCVersion {
    /// The version string, e.g. `0.1.0`.
    public static let string = "0.1.0"
}
