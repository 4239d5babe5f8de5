import ConductorGRPC
import Testing

/// The Python bridge's `BRIDGE_CONDUCTOR_*` names and the tuning presets.
@Suite struct ConfigurationSourcesTests {
    @Test func bridgeAliasesAreReadAndTheConductorNameWins() throws {
        let environment = [
            "BRIDGE_CONDUCTOR_BASE_URL": "grpc://bridge:1", "BRIDGE_CONDUCTOR_MAX_RETRIES": "2",
            "CONDUCTOR_MAX_RETRIES": "7", "BRIDGE_CONDUCTOR_TIMEOUT": "12",
        ]
        let configuration = try ConductorConfiguration.fromEnvironment(environment)
        #expect(configuration.endpoints.map(\.description) == ["bridge:1"])
        #expect(configuration.maxRetries == 7)
        #expect(configuration.timeout == .seconds(12))
        let sources = ConductorConfiguration.settingSources(environment)
        #expect(sources["CONDUCTOR_BASE_URL"] == .variable("BRIDGE_CONDUCTOR_BASE_URL"))
        #expect(sources["CONDUCTOR_MAX_RETRIES"] == .variable("CONDUCTOR_MAX_RETRIES"))
        #expect(sources["CONDUCTOR_CACHE_SIZE"] == .default)
    }

    @Test func aBadAliasIsReportedUnderTheNameThatWasSet() {
        let error = #expect(throws: ConductorError.self) {
            try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://h:1", "BRIDGE_CONDUCTOR_MAX_RETRIES": "99"])
        }
        #expect(error?.message.contains("BRIDGE_CONDUCTOR_MAX_RETRIES=99 is out of range 0...10") == true, "\(String(describing: error))")
    }

    @Test(arguments: ConductorConfiguration.Preset.allCases)
    func presetsSetTheSeedsValuesAndExplicitVariablesOverrideThem(_ preset: ConductorConfiguration.Preset) throws {
        let configuration = try ConductorConfiguration.fromEnvironment([
            "CONDUCTOR_BASE_URL": "grpc://h:1", "CONDUCTOR_PRESET": preset.rawValue, "CONDUCTOR_TIMEOUT": "7",
        ])
        let expected: (retries: Int, delay: Duration, cache: Int, ttl: Duration) = switch preset {
        case .highThroughput: (5, .milliseconds(500), 10_000, .seconds(1_800))
        case .lowLatency: (1, .milliseconds(100), 5_000, .seconds(600))
        }
        #expect(configuration.preset == preset)
        #expect(configuration.maxRetries == expected.retries)
        #expect(configuration.retryDelay == expected.delay)
        #expect(configuration.cacheSize == expected.cache)
        #expect(configuration.cacheTTL == expected.ttl)
        #expect(configuration.timeout == .seconds(7), "an explicit variable wins over the preset")
        #expect(ConductorConfiguration(preset: preset).timeout == (preset == .highThroughput ? .seconds(60) : .seconds(5)))
        let sources = ConductorConfiguration.settingSources(["CONDUCTOR_PRESET": preset.rawValue, "CONDUCTOR_TIMEOUT": "7"])
        #expect(sources["CONDUCTOR_CACHE_TTL"] == .preset(preset))
        #expect(sources["CONDUCTOR_TIMEOUT"] == .variable("CONDUCTOR_TIMEOUT"))
        try configuration.validate()
    }

    @Test func anUnknownPresetIsRefused() {
        let error = #expect(throws: ConductorError.self) {
            try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://h:1", "CONDUCTOR_PRESET": "fast"])
        }
        #expect(error?.message.contains("CONDUCTOR_PRESET=fast is not one of high-throughput, low-latency") == true)
    }
}
