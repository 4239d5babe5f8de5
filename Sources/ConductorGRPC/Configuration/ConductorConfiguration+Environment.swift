#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConductorConfiguration {
    /// Reads every `CONDUCTOR_*` variable of ``ConductorSetting/all``, checks its type and range,
    /// and returns the configuration. On bad input it throws one error listing every offending variable with
    /// its value and allowed range, so a process never starts half-configured.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(ConductorError) -> ConductorConfiguration {
        let environment = environment ?? processEnvironment()
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingWhitespace(), !value.isEmpty else { return nil }
            return value
        }
        var configuration = ConductorConfiguration()
        var problems: [String] = []
        for setting in ConductorSetting.all {
            if let text = value(setting.variable), let problem = setting.read(text, &configuration) { problems.append(problem) }
        }
        if value("CONDUCTOR_BASE_URL") == nil && configuration.mode == .remote {
            problems.append("CONDUCTOR_BASE_URL is required in http mode (e.g. grpc://conductor:50051), or set CONDUCTOR_MODE=memory")
        }
        if (configuration.tlsCertificateFile == nil) != (configuration.tlsKeyFile == nil) {
            problems.append("CONDUCTOR_TLS_CERT_FILE and CONDUCTOR_TLS_KEY_FILE go together (mutual TLS needs both)")
        }
        // Defaults that follow a larger explicit value, unless both were given and disagree.
        if configuration.maxConnectionsPerEndpoint < configuration.connectionsPerEndpoint {
            if value("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT") == nil {
                configuration.maxConnectionsPerEndpoint = configuration.connectionsPerEndpoint
            } else {
                problems.append("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT must not be smaller than CONDUCTOR_CONNECTIONS_PER_ENDPOINT")
            }
        }
        if configuration.retryMaxDelay < configuration.retryDelay {
            if value("CONDUCTOR_RETRY_MAX_DELAY") == nil {
                configuration.retryMaxDelay = configuration.retryDelay
            } else {
                problems.append("CONDUCTOR_RETRY_MAX_DELAY must not be smaller than CONDUCTOR_RETRY_DELAY")
            }
        }
        if !problems.isEmpty {
            throw .invalidConfiguration("invalid configuration:\n  " + problems.joined(separator: "\n  "))
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
