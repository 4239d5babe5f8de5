extension ConductorEndpoint {
    /// How reports name the endpoint: `host:port` as in logs and metrics, with `grpcs://` in front
    /// when it is reached over TLS, so that a TLS target never reads as cleartext.
    public var reportName: String {
        usesTLS ? "grpcs://\(self)" : description
    }
}
