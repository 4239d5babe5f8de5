import Logging

/// Everything a caller may set for one call, in one value, so that new options do not grow every
/// method's parameter list.
///
/// ```swift
/// var options = ConductorCallOptions(timeout: .seconds(2))
/// try options.metadata.append("x-request-id", requestID)
/// let proof = try await client.dayProof(42, options: options)
/// ```
public struct ConductorCallOptions: Sendable {
    /// The whole call's deadline, covering every attempt; `nil` means the configuration's
    /// ``ConductorConfiguration/timeout``, which is also the upper bound.
    public var timeout: Duration?
    /// Metadata sent with every attempt of this call, after the client's default metadata
    /// (``ConductorConfiguration/metadata``).
    public var metadata: ConductorMetadata
    /// Whether ``ConductorService/dayProof(_:options:)`` may answer from the cache (other
    /// methods ignore it).
    public var cachePolicy: ConductorCachePolicy
    /// The logger for this call's events (its retries, at `debug`), so that the caller's log
    /// metadata — a request id — is on every line; `nil` means the client's logger.
    public var logger: Logger?

    /// Options with the given values; the defaults change nothing.
    public init(
        timeout: Duration? = nil,
        metadata: ConductorMetadata = ConductorMetadata(),
        cachePolicy: ConductorCachePolicy = .useCache,
        logger: Logger? = nil
    ) {
        self.timeout = timeout
        self.metadata = metadata
        self.cachePolicy = cachePolicy
        self.logger = logger
    }
}

extension ConductorCallOptions {
    /// Whether nothing is set for this call (no timeout, metadata or logger of its own): only such
    /// submits are coalesced, since one batch carries one set of options.
    var isDefault: Bool {
        timeout == nil && metadata.isEmpty && logger == nil
    }
}
