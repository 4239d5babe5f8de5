#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConductorConfiguration {
    /// Reads every `CONDUCTOR_*` variable, checks its type and range, and returns the
    /// configuration. On bad input it throws one error listing every offending variable with
    /// its value and allowed range, so a process never starts half-configured.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(ConductorError) -> ConductorConfiguration {
        var reader = EnvironmentReader(environment ?? processEnvironment())
        var configuration = ConductorConfiguration()

        if let mode = reader.string("CONDUCTOR_MODE") {
            switch mode.lowercased() {
            case "http", "grpc", "remote": configuration.mode = .remote
            case "memory": configuration.mode = .memory
            default: reader.problem("CONDUCTOR_MODE=\(mode) is not one of http, memory")
            }
        }
        if let proto = reader.string("CONDUCTOR_PROTOCOL"), proto.lowercased() != "grpc" {
            reader.problem("CONDUCTOR_PROTOCOL=\(proto) is not supported by this client (only grpc; the http REST API is a different client)")
        }
        if let urls = reader.string("CONDUCTOR_BASE_URL") {
            do { configuration.endpoints = try ConductorEndpoint.parseList(urls) } catch { reader.problem(error.message) }
        } else if configuration.mode == .remote {
            reader.problem("CONDUCTOR_BASE_URL is required in http mode (e.g. grpc://conductor:50051), or set CONDUCTOR_MODE=memory")
        }
        reader.integer("CONDUCTOR_MAX_RETRIES", 0...10) { configuration.maxRetries = $0 }
        reader.seconds("CONDUCTOR_RETRY_DELAY", 0.1...60) { configuration.retryDelay = $0 }
        reader.seconds("CONDUCTOR_RETRY_MAX_DELAY", 0.1...300) { configuration.retryMaxDelay = $0 }
        reader.integer("CONDUCTOR_RETRY_BUDGET_TOKENS", 1...1000) { configuration.retryBudgetMaxTokens = $0 }
        reader.number("CONDUCTOR_RETRY_BUDGET_RATIO", 0.01...1) { configuration.retryBudgetTokenRatio = $0 }
        reader.seconds("CONDUCTOR_TIMEOUT", 1...300) { configuration.timeout = $0 }
        reader.integer("CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD", 1...50) { configuration.circuitBreakerThreshold = $0 }
        reader.seconds("CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT", 10...600) { configuration.circuitBreakerTimeout = $0 }
        reader.seconds("CONDUCTOR_CACHE_TTL", 60...3600) { configuration.cacheTTL = $0 }
        reader.integer("CONDUCTOR_CACHE_SIZE", 100...10000) { configuration.cacheSize = $0 }
        reader.boolean("CONDUCTOR_CACHE_SERVE_STALE") { configuration.serveStaleDayProofs = $0 }
        reader.boolean("CONDUCTOR_SUBMIT_DEDUPLICATED") { configuration.submitsAreDeduplicated = $0 }
        reader.integer("CONDUCTOR_MAX_MESSAGE_BYTES", 1024...(256 << 20)) { configuration.maxReceiveMessageBytes = $0 }
        reader.seconds("CONDUCTOR_CONNECT_TIMEOUT", 1...120) { configuration.connectTimeout = $0 }
        reader.seconds("CONDUCTOR_KEEPALIVE_INTERVAL", 10...3600, allowZero: true) {
            configuration.keepaliveInterval = $0 == .zero ? nil : $0
        }
        reader.seconds("CONDUCTOR_KEEPALIVE_TIMEOUT", 1...300) { configuration.keepaliveTimeout = $0 }
        reader.integer("CONDUCTOR_CONNECTIONS_PER_ENDPOINT", 1...16) { configuration.connectionsPerEndpoint = $0 }
        reader.integer("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT", 1...64) { configuration.maxConnectionsPerEndpoint = $0 }
        reader.integer("CONDUCTOR_MAX_PENDING_CALLS", 0...100_000) { configuration.maxPendingCalls = $0 }
        reader.seconds("CONDUCTOR_HEALTH_CHECK_INTERVAL", 1...3600, allowZero: true) {
            configuration.healthCheckInterval = $0 == .zero ? nil : $0
        }
        if let service = reader.string("CONDUCTOR_HEALTH_CHECK_SERVICE") {
            if let value = HealthCheckService(rawValue: service.lowercased()) {
                configuration.healthCheckService = value
            } else {
                reader.problem("CONDUCTOR_HEALTH_CHECK_SERVICE=\(service) is not one of conductor, grpc")
            }
        }
        reader.seconds("CONDUCTOR_DNS_REFRESH_INTERVAL", 1...3600) { configuration.dnsRefreshInterval = $0 }
        configuration.tlsCAFile = reader.string("CONDUCTOR_TLS_CA_FILE")
        configuration.tlsCertificateFile = reader.string("CONDUCTOR_TLS_CERT_FILE")
        configuration.tlsKeyFile = reader.string("CONDUCTOR_TLS_KEY_FILE")
        configuration.tlsServerName = reader.string("CONDUCTOR_TLS_SERVER_NAME")
        if (configuration.tlsCertificateFile == nil) != (configuration.tlsKeyFile == nil) {
            reader.problem("CONDUCTOR_TLS_CERT_FILE and CONDUCTOR_TLS_KEY_FILE go together (mutual TLS needs both)")
        }

        if configuration.maxConnectionsPerEndpoint < configuration.connectionsPerEndpoint {
            if reader.string("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT") == nil {
                configuration.maxConnectionsPerEndpoint = configuration.connectionsPerEndpoint
            } else {
                reader.problem("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT must not be smaller than CONDUCTOR_CONNECTIONS_PER_ENDPOINT")
            }
        }
        if configuration.retryMaxDelay < configuration.retryDelay {
            if reader.string("CONDUCTOR_RETRY_MAX_DELAY") == nil {
                configuration.retryMaxDelay = configuration.retryDelay // the default cap follows a larger base
            } else {
                reader.problem("CONDUCTOR_RETRY_MAX_DELAY must not be smaller than CONDUCTOR_RETRY_DELAY")
            }
        }
        if !reader.problems.isEmpty {
            throw .invalidConfiguration("invalid configuration:\n  " + reader.problems.joined(separator: "\n  "))
        }
        return configuration
    }

    private static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "="), text.hasPrefix("CONDUCTOR_") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}

/// Reads variables and collects every problem instead of stopping at the first.
private struct EnvironmentReader {
    let environment: [String: String]
    var problems: [String] = []

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    mutating func problem(_ text: String) {
        problems.append(text)
    }

    /// The trimmed value, or nil when unset or empty.
    func string(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingWhitespace(), !value.isEmpty else { return nil }
        return value
    }

    mutating func integer(_ name: String, _ range: ClosedRange<Int>, apply: (Int) -> Void) {
        guard let text = string(name) else { return }
        guard let value = Int(text), range.contains(value) else {
            problem("\(name)=\(text) is out of range \(range.lowerBound)...\(range.upperBound) (an integer)")
            return
        }
        apply(value)
    }

    mutating func seconds(_ name: String, _ range: ClosedRange<Double>, allowZero: Bool = false, apply: (Duration) -> Void) {
        guard let text = string(name) else { return }
        let allowed = "\(Self.format(range.lowerBound))...\(Self.format(range.upperBound)) seconds" + (allowZero ? " (or 0 to disable)" : "")
        guard let value = Double(text), value.isFinite, range.contains(value) || (allowZero && value == 0) else {
            problem("\(name)=\(text) is out of range \(allowed)")
            return
        }
        apply(.milliseconds(Int64((value * 1000).rounded())))
    }

    mutating func number(_ name: String, _ range: ClosedRange<Double>, apply: (Double) -> Void) {
        guard let text = string(name) else { return }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            problem("\(name)=\(text) is out of range \(Self.format(range.lowerBound))...\(Self.format(range.upperBound)) (a number)")
            return
        }
        apply(value)
    }

    mutating func boolean(_ name: String, apply: (Bool) -> Void) {
        guard let text = string(name) else { return }
        switch text.lowercased() {
        case "1", "true", "yes", "on": apply(true)
        case "0", "false", "no", "off": apply(false)
        default: problem("\(name)=\(text) is not a boolean (true or false)")
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
