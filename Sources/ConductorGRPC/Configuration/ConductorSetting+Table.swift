extension ConductorSetting {
    private static let testsUseShortTimes = "tests and in-process simulations use millisecond timings"

    /// Every setting, in the order the README, `--help` and `--dry-run` list them.
    public static let all: [ConductorSetting] = [
        // First: the variables after it override what a preset sets.
        ConductorSetting(
            variable: "CONDUCTOR_PRESET", property: "preset", defaultText: "—", rangeText: "`high-throughput`, `low-latency`",
            meaning: "the seed's tuning presets (retries, backoff, deadline, cache); explicit variables override them",
            widerInSwift: nil,
            read: { text, configuration in
                guard let preset = ConductorConfiguration.Preset(rawValue: text.lowercased()) else {
                    return "CONDUCTOR_PRESET=\(text) is not one of high-throughput, low-latency"
                }
                configuration.apply(preset)
                return nil
            },
            check: { _ in nil }, value: { .text($0.preset?.rawValue ?? "") }),
        ConductorSetting(
            variable: "CONDUCTOR_MODE", property: "mode", defaultText: "`http`", rangeText: "`http`, `memory`",
            meaning: "`http`: a remote conductor; `memory`: the in-process conductor", widerInSwift: nil,
            read: { text, configuration in
                switch text.lowercased() {
                case "http", "grpc", "remote": configuration.mode = .remote
                case "memory": configuration.mode = .memory
                default: return "CONDUCTOR_MODE=\(text) is not one of http, memory"
                }
                return nil
            },
            check: { _ in nil }, value: { .text($0.mode.rawValue) }),
        ConductorSetting(
            variable: "CONDUCTOR_PROTOCOL", property: "wireProtocol", defaultText: "`grpc`", rangeText: "`grpc`, `http`",
            meaning: "`grpc`: the gRPC service over HTTP/2; `http`: the REST routes with JSON (HTTP/1.1 keep-alive, h2 over TLS when offered; raises the default of `CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT` to 16)",
            widerInSwift: nil,
            read: { text, configuration in
                guard let wireProtocol = ConductorConfiguration.WireProtocol(rawValue: text.lowercased()) else {
                    return "CONDUCTOR_PROTOCOL=\(text) is not one of grpc, http"
                }
                configuration.wireProtocol = wireProtocol
                return nil
            },
            check: { _ in nil }, value: { .text($0.wireProtocol.rawValue) }),
        ConductorSetting(
            variable: "CONDUCTOR_BASE_URL", property: "endpoints", defaultText: "—", rangeText: "URL list",
            meaning: "required in `http` mode; see URL forms", widerInSwift: nil,
            read: { text, configuration in
                do throws(ConductorError) { configuration.endpoints = try ConductorEndpoint.parseList(text) } catch { return error.message }
                return nil
            },
            check: { _ in nil }, value: { .list($0.endpoints.map(\.reportName)) }),
        .integer("CONDUCTOR_MAX_RETRIES", "maxRetries", 0...10, "retries after the first attempt", \.maxRetries),
        .seconds("CONDUCTOR_RETRY_DELAY", "retryDelay", 0.1...60, wider: (.milliseconds(1), testsUseShortTimes),
                 "backoff base", \.retryDelay),
        .seconds("CONDUCTOR_RETRY_MAX_DELAY", "retryMaxDelay", 0.1...300, wider: (.milliseconds(1), testsUseShortTimes),
                 "backoff cap (raised to the base if the base is larger)", \.retryMaxDelay),
        .integer("CONDUCTOR_RETRY_BUDGET_TOKENS", "retryBudgetMaxTokens", 1...1000, "retry throttling bucket size",
                 \.retryBudgetMaxTokens),
        .number("CONDUCTOR_RETRY_BUDGET_RATIO", "retryBudgetTokenRatio", 0.01...1, "tokens earned per success",
                \.retryBudgetTokenRatio),
        .seconds("CONDUCTOR_TIMEOUT", "timeout", 1...300, wider: (.milliseconds(1), testsUseShortTimes),
                 "deadline for the whole call, retries included", \.timeout),
        .integer("CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD", "circuitBreakerThreshold", 1...50,
                 "consecutive failures (or failed connection attempts) that open the breaker", \.circuitBreakerThreshold),
        .seconds("CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT", "circuitBreakerTimeout", 10...600, wider: (.milliseconds(1), testsUseShortTimes),
                 "how long it stays open (doubles on each re-open, at most ×10)", \.circuitBreakerTimeout),
        .seconds("CONDUCTOR_CACHE_TTL", "cacheTTL", 60...3600, wider: (.milliseconds(1), testsUseShortTimes),
                 "lifetime of non-canonical day proofs", \.cacheTTL),
        .integer("CONDUCTOR_CACHE_SIZE", "cacheSize", 100...10000,
                 wider: (1...1_000_000, "a service may keep more proofs in memory, and tests fewer"),
                 "day proofs held (LRU)", \.cacheSize),
        .flag("CONDUCTOR_CACHE_SERVE_STALE", "serveStaleDayProofs", "serve an expired proof when the conductor is unreachable",
              \.serveStaleDayProofs),
        .flag("CONDUCTOR_SUBMIT_DEDUPLICATED", "submitsAreDeduplicated",
              "the conductor deduplicates submits by event hash (see the retry contract)", \.submitsAreDeduplicated),
        .integer("CONDUCTOR_MAX_MESSAGE_BYTES", "maxReceiveMessageBytes", 1024...(256 << 20), "largest response message accepted",
                 \.maxReceiveMessageBytes),
        .seconds("CONDUCTOR_CONNECT_TIMEOUT", "connectTimeout", 1...120, wider: (.milliseconds(1), testsUseShortTimes),
                 "TCP connect up to the server's first SETTINGS", \.connectTimeout),
        .optionalSeconds("CONDUCTOR_KEEPALIVE_INTERVAL", "keepaliveInterval", 10...3600, wider: (.milliseconds(1), testsUseShortTimes),
                         "PING after this much read silence while calls are open", \.keepaliveInterval),
        .seconds("CONDUCTOR_KEEPALIVE_TIMEOUT", "keepaliveTimeout", 1...300, wider: (.milliseconds(1), testsUseShortTimes),
                 "a PING without an ACK in this time kills the connection", \.keepaliveTimeout),
        .integer("CONDUCTOR_CONNECTIONS_PER_ENDPOINT", "connectionsPerEndpoint", 1...16,
                 "HTTP/2 connections kept open per endpoint address (one multiplexes hundreds of calls)", \.connectionsPerEndpoint),
        .integer("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT", "maxConnectionsPerEndpoint", 1...64,
                 "when all of an endpoint's connections are at the server's stream limit and calls wait, another opens, up to this many (at least `CONDUCTOR_CONNECTIONS_PER_ENDPOINT`)",
                 \.maxConnectionsPerEndpoint),
        .integer("CONDUCTOR_MAX_PENDING_CALLS", "maxPendingCalls", 0...100_000,
                 "calls that may wait for a stream or a connection; beyond, calls fail at once (`kind == .poolSaturated`)",
                 \.maxPendingCalls),
        .optionalSeconds("CONDUCTOR_HEALTH_CHECK_INTERVAL", "healthCheckInterval", 1...3600, wider: (.milliseconds(10), testsUseShortTimes),
                         "active health checks per endpoint; NOT_SERVING takes it out of rotation", \.healthCheckInterval),
        ConductorSetting(
            variable: "CONDUCTOR_HEALTH_CHECK_SERVICE", property: "healthCheckService", defaultText: "`conductor`",
            rangeText: "`conductor`, `grpc`",
            meaning: "`ConductorBridge/HealthCheck` or `grpc.health.v1.Health/Check` (UNIMPLEMENTED counts as serving)",
            widerInSwift: nil,
            read: { text, configuration in
                guard let service = ConductorConfiguration.HealthCheckService(rawValue: text.lowercased()) else {
                    return "CONDUCTOR_HEALTH_CHECK_SERVICE=\(text) is not one of conductor, grpc"
                }
                configuration.healthCheckService = service
                return nil
            },
            check: { _ in nil }, value: { .text($0.healthCheckService.rawValue) }),
        .seconds("CONDUCTOR_DNS_REFRESH_INTERVAL", "dnsRefreshInterval", 1...3600, wider: (.milliseconds(100), testsUseShortTimes),
                 "how often `dns:///` names are resolved again (also soon after a connection is lost)", \.dnsRefreshInterval),
        .text("CONDUCTOR_TLS_CA_FILE", "tlsCAFile", default: "system trust store", "PEM file",
              "CA certificates that `grpcs://` servers are verified against", \.tlsCAFile),
        .text("CONDUCTOR_TLS_CERT_FILE", "tlsCertificateFile", default: "—", "PEM file",
              "client certificate for mutual TLS (with `CONDUCTOR_TLS_KEY_FILE`)", \.tlsCertificateFile),
        .text("CONDUCTOR_TLS_KEY_FILE", "tlsKeyFile", default: "—", "PEM file",
              "the client certificate's key (with `CONDUCTOR_TLS_CERT_FILE`)", \.tlsKeyFile),
        .text("CONDUCTOR_TLS_SERVER_NAME", "tlsServerName", default: "the host", "name",
              "the name checked in the server certificate and sent as SNI", \.tlsServerName),
        .seconds("CONDUCTOR_SHUTDOWN_GRACE_PERIOD", "shutdownGracePeriod", 0...300,
                 "how long a shutdown lets calls in flight finish before failing them (`kind == .shutDown`)", \.shutdownGracePeriod),
        ConductorSetting(
            variable: "CONDUCTOR_COMPRESSION", property: "compression", defaultText: "`none`", rangeText: "`none`, `gzip`, `deflate`",
            meaning: "compresses requests and asks for compressed answers (which are read in any case)", widerInSwift: nil,
            read: { text, configuration in
                guard let compression = ConductorConfiguration.Compression(rawValue: text.lowercased()) else {
                    return "CONDUCTOR_COMPRESSION=\(text) is not one of none, gzip, deflate"
                }
                configuration.compression = compression
                return nil
            },
            check: { _ in nil }, value: { .text($0.compression.rawValue) }),
        ConductorSetting(
            variable: "CONDUCTOR_METADATA", property: "metadata", defaultText: "—", rangeText: "`key=value,…`",
            meaning: "metadata sent with every call; `--dry-run` shows credentials (`authorization`, `*token*`, …) redacted",
            widerInSwift: nil,
            read: { text, configuration in
                do throws(ConductorError) {
                    configuration.metadata = try ConductorMetadata(parsing: text, variable: "CONDUCTOR_METADATA")
                } catch { return error.message }
                return nil
            },
            check: { _ in nil }, value: { .text($0.metadata.redactedDescription) }),
        .text("CONDUCTOR_AUTH_TOKEN_FILE", "authTokenFile", default: "—", "file",
              "bearer token sent as `authorization`; the file is read again every 60 s and after UNAUTHENTICATED",
              \.authTokenFile),
        .text("CONDUCTOR_OUTBOX_PATH", "outboxPath", default: "—", "file",
              "SQLite database of the durable outbox (`submitDurably`); unset: no outbox", \.outboxPath),
        .integer("CONDUCTOR_OUTBOX_MAX_EVENTS", "outboxMaxEvents", 1...100_000_000,
                 "events the outbox holds; beyond, a durable submit fails at once (`kind == .outboxFull`)", \.outboxMaxEvents),
        .integer("CONDUCTOR_OUTBOX_MAX_BYTES", "outboxMaxBytes", 1024...(64 << 30),
                 "event bytes the outbox holds; beyond, a durable submit fails at once (`kind == .outboxFull`)", \.outboxMaxBytes),
        .optionalSeconds("CONDUCTOR_SUBMIT_COALESCE_WINDOW", "submitCoalesceWindow", 0.000001...0.05,
                         "concurrent single submits within the window go out as one SubmitEventsBatch (each waits up to the window)",
                         \.submitCoalesceWindow),
        .integer("CONDUCTOR_SUBMIT_COALESCE_MAX", "submitCoalesceMax", 1...10_000,
                 "events per coalesced batch; a full batch goes at once", \.submitCoalesceMax),
        .optionalSeconds("CONDUCTOR_HEDGE_DELAY", "hedgeDelay", 0.001...10,
                         "a GetDayProof unanswered this long also goes to another endpoint; the first answer wins (draws on the retry budget)",
                         \.hedgeDelay),
    ]
}
