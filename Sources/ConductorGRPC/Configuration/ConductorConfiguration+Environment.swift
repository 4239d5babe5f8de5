extension ConductorConfiguration {
    /// Reads every `CONDUCTOR_*` variable of ``ConductorSetting/all`` (or its `BRIDGE_CONDUCTOR_*`
    /// alias, see ``bridgeAliasPrefix``; the `CONDUCTOR_*` name wins when both are set), checks its
    /// type and range, and returns the configuration. `CONDUCTOR_PRESET` applies first, so explicit
    /// variables override it. On bad input it throws one error listing every offending variable with
    /// its value and allowed range, so a process never starts half-configured.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(ConductorError) -> ConductorConfiguration {
        try resolve(resolveAliases(environment ?? processEnvironment()))
    }

    /// The configuration from each variable's text and the name it was read under (keyed by the
    /// `CONDUCTOR_*` name). A problem with one setting names the name it was read under;
    /// `rename` rewrites every problem (the `ConfigReader` path names its keys throughout).
    package static func resolve(
        _ resolved: [String: (value: String, name: String)], rename: (String) -> String = { $0 }
    ) throws(ConductorError) -> ConductorConfiguration {
        func value(_ name: String) -> String? { resolved[name]?.value }
        var configuration = ConductorConfiguration()
        var problems: [String] = []
        for setting in ConductorSetting.all {
            guard let (text, name) = resolved[setting.variable], let problem = setting.read(text, &configuration) else { continue }
            problems.append(name == setting.variable ? problem : problem.replacingFirst(setting.variable, with: name))
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
            throw .invalidConfiguration("invalid configuration:\n  " + problems.map(rename).joined(separator: "\n  "))
        }
        return configuration
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        var copy = self
        if let range = copy.firstRange(of: target) { copy.replaceSubrange(range, with: replacement) }
        return copy
    }
}
