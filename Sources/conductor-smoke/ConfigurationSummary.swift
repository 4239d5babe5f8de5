import ConductorGRPC

/// The effective configuration, one entry per `CONDUCTOR_*` variable (defaults included), as
/// `--dry-run` prints it and the JSON report's `configuration` object holds it. Durations are in
/// seconds, as the variables take them.
enum ConfigurationSummary {
    static func entries(_ configuration: ConductorConfiguration) -> [(name: String, value: SettingValue)] {
        [
            ("CONDUCTOR_MODE", .text(configuration.mode.rawValue)),
            ("CONDUCTOR_PROTOCOL", .text("grpc")),
            ("CONDUCTOR_BASE_URL", .list(configuration.endpoints.map(\.reportName))),
            ("CONDUCTOR_MAX_RETRIES", .integer(configuration.maxRetries)),
            ("CONDUCTOR_RETRY_DELAY", .number(seconds(configuration.retryDelay))),
            ("CONDUCTOR_RETRY_MAX_DELAY", .number(seconds(configuration.retryMaxDelay))),
            ("CONDUCTOR_RETRY_BUDGET_TOKENS", .integer(configuration.retryBudgetMaxTokens)),
            ("CONDUCTOR_RETRY_BUDGET_RATIO", .number(configuration.retryBudgetTokenRatio)),
            ("CONDUCTOR_TIMEOUT", .number(seconds(configuration.timeout))),
            ("CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD", .integer(configuration.circuitBreakerThreshold)),
            ("CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT", .number(seconds(configuration.circuitBreakerTimeout))),
            ("CONDUCTOR_CACHE_TTL", .number(seconds(configuration.cacheTTL))),
            ("CONDUCTOR_CACHE_SIZE", .integer(configuration.cacheSize)),
            ("CONDUCTOR_CACHE_SERVE_STALE", .flag(configuration.serveStaleDayProofs)),
            ("CONDUCTOR_SUBMIT_DEDUPLICATED", .flag(configuration.submitsAreDeduplicated)),
            ("CONDUCTOR_MAX_MESSAGE_BYTES", .integer(configuration.maxReceiveMessageBytes)),
            ("CONDUCTOR_CONNECT_TIMEOUT", .number(seconds(configuration.connectTimeout))),
            ("CONDUCTOR_KEEPALIVE_INTERVAL", .number(configuration.keepaliveInterval.map(seconds) ?? 0)),
            ("CONDUCTOR_KEEPALIVE_TIMEOUT", .number(seconds(configuration.keepaliveTimeout))),
            ("CONDUCTOR_CONNECTIONS_PER_ENDPOINT", .integer(configuration.connectionsPerEndpoint)),
            ("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT", .integer(configuration.maxConnectionsPerEndpoint)),
            ("CONDUCTOR_MAX_PENDING_CALLS", .integer(configuration.maxPendingCalls)),
            ("CONDUCTOR_HEALTH_CHECK_INTERVAL", .number(configuration.healthCheckInterval.map(seconds) ?? 0)),
            ("CONDUCTOR_HEALTH_CHECK_SERVICE", .text(configuration.healthCheckService.rawValue)),
            ("CONDUCTOR_DNS_REFRESH_INTERVAL", .number(seconds(configuration.dnsRefreshInterval))),
            // Empty when unset: the system trust store, no client certificate, the host's name.
            ("CONDUCTOR_TLS_CA_FILE", .text(configuration.tlsCAFile ?? "")),
            ("CONDUCTOR_TLS_CERT_FILE", .text(configuration.tlsCertificateFile ?? "")),
            ("CONDUCTOR_TLS_KEY_FILE", .text(configuration.tlsKeyFile ?? "")),
            ("CONDUCTOR_TLS_SERVER_NAME", .text(configuration.tlsServerName ?? "")),
        ]
    }

    /// `NAME=value` lines.
    static func text(_ configuration: ConductorConfiguration) -> String {
        entries(configuration).map { "\($0.name)=\($0.value.display)" }.joined(separator: "\n")
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
