extension ConductorConfiguration {
    /// The seed's tuning presets (`CONDUCTOR_PRESET`). A preset sets retries, backoff, deadline and
    /// cache; any variable or property set explicitly afterwards wins.
    public enum Preset: String, Sendable, Hashable, CaseIterable {
        /// Batch-heavy services: 5 retries from 0.5 s, 60 s deadline, 10,000 cached proofs for 1,800 s.
        case highThroughput = "high-throughput"
        /// Interactive paths: 1 retry from 0.1 s, 5 s deadline, 5,000 cached proofs for 600 s.
        case lowLatency = "low-latency"

        /// The settings the preset changes, as variable names (what `--dry-run` marks as coming from it).
        public static let variables = ["CONDUCTOR_MAX_RETRIES", "CONDUCTOR_RETRY_DELAY", "CONDUCTOR_TIMEOUT",
                                       "CONDUCTOR_CACHE_SIZE", "CONDUCTOR_CACHE_TTL"]
    }

    /// A configuration with every default, then `preset` applied.
    public init(preset: Preset) {
        self.init()
        apply(preset)
    }

    /// Applies `preset`'s values (and remembers it in ``preset``).
    public mutating func apply(_ preset: Preset) {
        self.preset = preset
        switch preset {
        case .highThroughput:
            maxRetries = 5
            retryDelay = .milliseconds(500)
            timeout = .seconds(60)
            cacheSize = 10_000
            cacheTTL = .seconds(1_800)
        case .lowLatency:
            maxRetries = 1
            retryDelay = .milliseconds(100)
            timeout = .seconds(5)
            cacheSize = 5_000
            cacheTTL = .seconds(600)
        }
    }
}
