import ConductorGRPC
import ConductorGRPCConfigReader
import Configuration
import Testing

/// `ConductorConfiguration(config:)`: swift-configuration's `ConfigReader` reads the same settings,
/// under keys that mirror the variables, through the same parsing, presets and validation.
@Suite struct ConfigReaderConfigurationTests {
    /// A valid value for every variable, none of them the default.
    static let everyVariable: [String: String] = [
        "CONDUCTOR_PRESET": "low-latency", "CONDUCTOR_MODE": "http", "CONDUCTOR_PROTOCOL": "grpc",
        "CONDUCTOR_BASE_URL": "grpc://a:1,grpcs://b:2", "CONDUCTOR_MAX_RETRIES": "4", "CONDUCTOR_RETRY_DELAY": "0.25",
        "CONDUCTOR_RETRY_MAX_DELAY": "20", "CONDUCTOR_RETRY_BUDGET_TOKENS": "20", "CONDUCTOR_RETRY_BUDGET_RATIO": "0.2",
        "CONDUCTOR_TIMEOUT": "12.5", "CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD": "7", "CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT": "30",
        "CONDUCTOR_CACHE_TTL": "120", "CONDUCTOR_CACHE_SIZE": "500", "CONDUCTOR_CACHE_SERVE_STALE": "true",
        "CONDUCTOR_SUBMIT_DEDUPLICATED": "false", "CONDUCTOR_MAX_MESSAGE_BYTES": "65536", "CONDUCTOR_CONNECT_TIMEOUT": "5",
        "CONDUCTOR_KEEPALIVE_INTERVAL": "0", "CONDUCTOR_KEEPALIVE_TIMEOUT": "10", "CONDUCTOR_CONNECTIONS_PER_ENDPOINT": "2",
        "CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT": "8", "CONDUCTOR_MAX_PENDING_CALLS": "50",
        "CONDUCTOR_HEALTH_CHECK_INTERVAL": "15", "CONDUCTOR_HEALTH_CHECK_SERVICE": "grpc", "CONDUCTOR_DNS_REFRESH_INTERVAL": "60",
        "CONDUCTOR_TLS_CA_FILE": "/etc/conductor/ca.pem", "CONDUCTOR_TLS_CERT_FILE": "/etc/conductor/client.pem",
        "CONDUCTOR_TLS_KEY_FILE": "/etc/conductor/client.key", "CONDUCTOR_TLS_SERVER_NAME": "conductor.internal",
        "CONDUCTOR_SHUTDOWN_GRACE_PERIOD": "3", "CONDUCTOR_COMPRESSION": "gzip",
        "CONDUCTOR_METADATA": "x-team=payments,x-env=prod", "CONDUCTOR_AUTH_TOKEN_FILE": "/var/run/conductor/token",
        "CONDUCTOR_OUTBOX_PATH": "/var/lib/conductor/outbox.sqlite", "CONDUCTOR_OUTBOX_MAX_EVENTS": "5000",
        "CONDUCTOR_OUTBOX_MAX_BYTES": "1048576", "CONDUCTOR_SUBMIT_COALESCE_WINDOW": "0.005",
        "CONDUCTOR_SUBMIT_COALESCE_MAX": "50", "CONDUCTOR_HEDGE_DELAY": "0.02",
    ]

    /// The same values as a JSON or YAML file would type them.
    static let everyKeyTyped: [AbsoluteConfigKey: ConfigValue] = [
        "conductor.preset": "low-latency", "conductor.mode": "http", "conductor.protocol": "grpc",
        "conductor.baseUrl": .init(.stringArray(["grpc://a:1", "grpcs://b:2"]), isSecret: false), "conductor.maxRetries": 4,
        "conductor.retryDelay": 0.25, "conductor.retryMaxDelay": 20, "conductor.retryBudgetTokens": 20,
        "conductor.retryBudgetRatio": 0.2, "conductor.timeout": 12.5, "conductor.circuitBreakerThreshold": 7,
        "conductor.circuitBreakerTimeout": 30, "conductor.cacheTtl": 120, "conductor.cacheSize": 500,
        "conductor.cacheServeStale": true, "conductor.submitDeduplicated": false, "conductor.maxMessageBytes": 65536,
        "conductor.connectTimeout": 5.0, "conductor.keepaliveInterval": 0, "conductor.keepaliveTimeout": 10,
        "conductor.connectionsPerEndpoint": 2, "conductor.maxConnectionsPerEndpoint": 8, "conductor.maxPendingCalls": 50,
        "conductor.healthCheckInterval": 15, "conductor.healthCheckService": "grpc", "conductor.dnsRefreshInterval": 60,
        "conductor.tlsCaFile": "/etc/conductor/ca.pem", "conductor.tlsCertFile": "/etc/conductor/client.pem",
        "conductor.tlsKeyFile": "/etc/conductor/client.key", "conductor.tlsServerName": "conductor.internal",
        "conductor.shutdownGracePeriod": 3, "conductor.compression": "gzip",
        "conductor.metadata": .init(.stringArray(["x-team=payments", "x-env=prod"]), isSecret: true),
        "conductor.authTokenFile": "/var/run/conductor/token",
        "conductor.outboxPath": "/var/lib/conductor/outbox.sqlite", "conductor.outboxMaxEvents": 5000,
        "conductor.outboxMaxBytes": 1_048_576, "conductor.submitCoalesceWindow": 0.005,
        "conductor.submitCoalesceMax": 50, "conductor.hedgeDelay": 0.02,
    ]

    private func reader(_ values: [AbsoluteConfigKey: ConfigValue]) -> ConfigReader {
        ConfigReader(provider: InMemoryProvider(values: values)).scoped(to: "conductor")
    }

    private func environmentReader(_ variables: [String: String]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables)).scoped(to: "conductor")
    }

    private func problem(_ read: () throws(ConductorError) -> ConductorConfiguration) -> String? {
        do {
            _ = try read()
            return nil
        } catch {
            return error.message
        }
    }

    @Test func everySettingHasAKeyThatTheEnvironmentProviderMapsToItsVariable() {
        #expect(Set(Self.everyVariable.keys) == Set(ConductorSetting.all.map(\.variable)), "a new variable needs a value here")
        #expect(Set(Self.everyKeyTyped.keys.map(\.description)) == Set(ConductorSetting.all.map { "conductor." + $0.configKey }))
        for setting in ConductorSetting.all {
            let config = environmentReader([setting.variable: "value of \(setting.variable)"])
            #expect(config.string(forKey: ConfigKey([setting.configKey])) == "value of \(setting.variable)", "\(setting.configKey)")
        }
        #expect(ConductorSetting.all.first { $0.variable == "CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT" }?.configKey
            == "maxConnectionsPerEndpoint")
    }

    @Test func anInMemoryProviderWithTypedValuesYieldsWhatTheEquivalentEnvironmentDoes() throws {
        let expected = try ConductorConfiguration.fromEnvironment(Self.everyVariable)
        let configuration = try ConductorConfiguration(config: reader(Self.everyKeyTyped))
        #expect(configuration == expected)
        #expect(configuration.maxRetries == 4)
        #expect(configuration.timeout == .milliseconds(12_500))
        #expect(configuration.keepaliveInterval == nil)
        #expect(configuration.serveStaleDayProofs)
        #expect(configuration.endpoints.count == 2)
        #expect(configuration.metadata.redactedDescription.contains("x-team"))
    }

    @Test func theEnvironmentProviderReadsExactlyWhatFromEnvironmentReads() throws {
        let expected = try ConductorConfiguration.fromEnvironment(Self.everyVariable)
        #expect(try ConductorConfiguration(config: environmentReader(Self.everyVariable)) == expected)
        let few = ["CONDUCTOR_BASE_URL": "grpc://h:1", "CONDUCTOR_TIMEOUT": " 7 ", "CONDUCTOR_CACHE_SIZE": "  "]
        #expect(try ConductorConfiguration(config: environmentReader(few)) == ConductorConfiguration.fromEnvironment(few))
        #expect(try ConductorConfiguration(config: environmentReader(few)).cacheSize == 1000, "blank counts as unset")
    }

    @Test func textValuesAreReadAsTheVariablesTakeThem() throws {
        let configuration = try ConductorConfiguration(config: reader([
            "conductor.baseUrl": "grpc://h:1", "conductor.maxRetries": "6", "conductor.retryDelay": "0.5",
            "conductor.cacheServeStale": "yes", "conductor.healthCheckInterval": "0",
        ]))
        #expect(configuration.maxRetries == 6)
        #expect(configuration.retryDelay == .milliseconds(500))
        #expect(configuration.serveStaleDayProofs)
        #expect(configuration.healthCheckInterval == nil)
    }

    @Test(arguments: ConductorConfiguration.Preset.allCases)
    func aPresetAppliesFirstAndExplicitKeysOverrideIt(_ preset: ConductorConfiguration.Preset) throws {
        let configuration = try ConductorConfiguration(config: reader([
            "conductor.baseUrl": "grpc://h:1", "conductor.preset": .init(.string(preset.rawValue), isSecret: false),
            "conductor.timeout": 7,
        ]))
        var expected = ConductorConfiguration(preset: preset)
        expected.endpoints = configuration.endpoints
        expected.timeout = .seconds(7)
        #expect(configuration == expected)
        #expect(configuration.preset == preset)
    }

    @Test func anOutOfRangeValueNamesTheKeyAndTheAllowedRange() throws {
        let message = try #require(problem { () throws(ConductorError) in
            try ConductorConfiguration(config: reader([
                "conductor.baseUrl": "grpc://h:1", "conductor.maxRetries": 11, "conductor.retryDelay": 0.05,
                "conductor.cacheServeStale": "maybe", "conductor.mode": "pigeon",
            ]))
        })
        #expect(message.hasPrefix("invalid configuration:"), "\(message)")
        #expect(message.contains("maxRetries=11 is out of range 0...10 (an integer)"), "\(message)")
        #expect(message.contains("retryDelay=0.05 is out of range 0.1...60 seconds"), "\(message)")
        #expect(message.contains("cacheServeStale=maybe is not a boolean (true or false)"), "\(message)")
        #expect(message.contains("mode=pigeon is not one of http, memory"), "\(message)")
        #expect(!message.contains("CONDUCTOR_"), "the reader's keys, not the variables: \(message)")
    }

    @Test func aValueOfTheWrongTypeIsRefusedNotIgnored() throws {
        let message = try #require(problem { () throws(ConductorError) in
            try ConductorConfiguration(config: reader(["conductor.baseUrl": "grpc://h:1", "conductor.cacheSize": true]))
        })
        #expect(message.contains("cacheSize=true is out of range 100...10000 (an integer)"), "\(message)")
    }

    @Test func rulesBetweenSettingsNameTheKeys() throws {
        let message = try #require(problem { () throws(ConductorError) in
            try ConductorConfiguration(config: reader([
                "conductor.connectionsPerEndpoint": 4, "conductor.maxConnectionsPerEndpoint": 2,
                "conductor.tlsCertFile": "/c.pem",
            ]))
        })
        #expect(message.contains("baseUrl is required in http mode (e.g. grpc://conductor:50051), or set mode=memory"), "\(message)")
        #expect(message.contains("maxConnectionsPerEndpoint must not be smaller than connectionsPerEndpoint"), "\(message)")
        #expect(message.contains("tlsCertFile and tlsKeyFile go together"), "\(message)")
    }

    @Test func theEnvironmentProvidersErrorsAreFromEnvironmentsUnderTheKeysNames() throws {
        let bad = ["CONDUCTOR_BASE_URL": "grpc://h:1", "CONDUCTOR_TIMEOUT": "soon", "CONDUCTOR_CACHE_TTL": "59"]
        let fromEnvironment = try #require(problem { () throws(ConductorError) in try ConductorConfiguration.fromEnvironment(bad) })
        let fromReader = try #require(problem { () throws(ConductorError) in try ConductorConfiguration(config: environmentReader(bad)) })
        #expect(fromEnvironment.contains("CONDUCTOR_TIMEOUT=soon is out of range 1...300 seconds"), "\(fromEnvironment)")
        #expect(fromReader == fromEnvironment.replacing("CONDUCTOR_TIMEOUT", with: "timeout")
            .replacing("CONDUCTOR_CACHE_TTL", with: "cacheTtl"))
    }

    @Test func theBridgeAliasesAreAnEnvironmentMatterOnly() throws {
        let configuration = try ConductorConfiguration(config: environmentReader([
            "CONDUCTOR_BASE_URL": "grpc://h:1", "BRIDGE_CONDUCTOR_MAX_RETRIES": "7",
        ]))
        #expect(configuration.maxRetries == 3)
    }
}
