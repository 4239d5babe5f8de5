@testable import ConductorGRPC
import Testing

@Suite struct ConfigurationTests {
    private let base = ["CONDUCTOR_BASE_URL": "grpc://127.0.0.1:50051"]

    private func load(_ extra: [String: String]) throws(ConductorError) -> ConductorConfiguration {
        try ConductorConfiguration.fromEnvironment(base.merging(extra) { $1 })
    }

    private func problem(_ extra: [String: String]) -> String? {
        do {
            _ = try load(extra)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func defaultsMatchTheDesignTable() throws {
        let configuration = try load([:])
        #expect(configuration.mode == .remote)
        #expect(configuration.maxRetries == 3)
        #expect(configuration.retryDelay == .seconds(1))
        #expect(configuration.timeout == .seconds(30))
        #expect(configuration.circuitBreakerThreshold == 5)
        #expect(configuration.circuitBreakerTimeout == .seconds(60))
        #expect(configuration.cacheTTL == .seconds(300))
        #expect(configuration.cacheSize == 1000)
        #expect(configuration.endpoints == [ConductorEndpoint(.tcp(host: "127.0.0.1", port: 50051))])
        #expect(configuration == { var c = ConductorConfiguration(); c.endpoints = configuration.endpoints; return c }())
    }

    /// (variable, lowest, highest, one below, one above)
    static let ranges: [(String, String, String, String, String)] = [
        ("CONDUCTOR_MAX_RETRIES", "0", "10", "-1", "11"),
        ("CONDUCTOR_RETRY_DELAY", "0.1", "60", "0.09", "60.1"),
        ("CONDUCTOR_RETRY_MAX_DELAY", "60", "300", "0.09", "300.5"),
        ("CONDUCTOR_TIMEOUT", "1", "300", "0.99", "301"),
        ("CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD", "1", "50", "0", "51"),
        ("CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT", "10", "600", "9.9", "601"),
        ("CONDUCTOR_CACHE_TTL", "60", "3600", "59", "3601"),
        ("CONDUCTOR_CACHE_SIZE", "100", "10000", "99", "10001"),
        ("CONDUCTOR_RETRY_BUDGET_TOKENS", "1", "1000", "0", "1001"),
        ("CONDUCTOR_RETRY_BUDGET_RATIO", "0.01", "1", "0.001", "1.5"),
        ("CONDUCTOR_MAX_MESSAGE_BYTES", "1024", "268435456", "1023", "268435457"),
        ("CONDUCTOR_CONNECT_TIMEOUT", "1", "120", "0.5", "121"),
        ("CONDUCTOR_KEEPALIVE_INTERVAL", "10", "3600", "9", "3601"),
        ("CONDUCTOR_KEEPALIVE_TIMEOUT", "1", "300", "0.5", "301"),
        ("CONDUCTOR_SUBMIT_COALESCE_WINDOW", "0.000001", "0.05", "0.0000009", "0.051"),
    ]

    @Test(arguments: ranges)
    func bothEndsOfEveryRange(_ entry: (String, String, String, String, String)) throws {
        let (name, low, high, below, above) = entry
        #expect(problem([name: low]) == nil, "\(name)=\(low)")
        #expect(problem([name: high]) == nil, "\(name)=\(high)")
        for bad in [below, above, "garbage", "1e400", ""] where !bad.isEmpty {
            let message = try #require(problem([name: bad]), "\(name)=\(bad) must be rejected")
            #expect(message.contains("\(name)=\(bad) is out of range"), "\(message)")
        }
    }

    @Test func valuesAreApplied() throws {
        let configuration = try load([
            "CONDUCTOR_MAX_RETRIES": "7", "CONDUCTOR_RETRY_DELAY": "0.25", "CONDUCTOR_TIMEOUT": "2.5",
            "CONDUCTOR_CACHE_SIZE": "123", "CONDUCTOR_KEEPALIVE_INTERVAL": "0", "CONDUCTOR_SUBMIT_DEDUPLICATED": "false",
        ])
        #expect(configuration.maxRetries == 7)
        #expect(configuration.retryDelay == .milliseconds(250))
        #expect(configuration.timeout == .milliseconds(2500))
        #expect(configuration.cacheSize == 123)
        #expect(configuration.keepaliveInterval == nil)
        #expect(!configuration.submitsAreDeduplicated)
    }

    /// Seconds below a millisecond keep their microseconds (they were rounded to whole
    /// milliseconds: 0.0004 s became no window at all), and messages write them without exponents.
    @Test func subMillisecondSecondsKeepTheirMicroseconds() throws {
        #expect(try load(["CONDUCTOR_SUBMIT_COALESCE_WINDOW": "0.0004"]).submitCoalesceWindow == .microseconds(400))
        #expect(try load(["CONDUCTOR_SUBMIT_COALESCE_WINDOW": "0.000001"]).submitCoalesceWindow == .microseconds(1))
        let message = try #require(problem(["CONDUCTOR_SUBMIT_COALESCE_WINDOW": "0.0000009"]))
        #expect(message.contains("out of range 0.000001...0.05 seconds"), "\(message)")
    }

    @Test func severalBadVariablesAreAllListed() throws {
        let message = try #require(problem([
            "CONDUCTOR_MAX_RETRIES": "42", "CONDUCTOR_TIMEOUT": "soon", "CONDUCTOR_MODE": "carrier-pigeon",
            "CONDUCTOR_SUBMIT_DEDUPLICATED": "maybe",
        ]))
        #expect(message.contains("CONDUCTOR_MAX_RETRIES=42 is out of range 0...10"))
        #expect(message.contains("CONDUCTOR_TIMEOUT=soon is out of range 1...300 seconds"))
        #expect(message.contains("CONDUCTOR_MODE=carrier-pigeon is not one of http, memory"))
        #expect(message.contains("CONDUCTOR_SUBMIT_DEDUPLICATED=maybe is not a boolean"))
    }

    @Test func baseURLIsRequiredInRemoteModeOnly() throws {
        #expect(throws: ConductorError.self) { try ConductorConfiguration.fromEnvironment([:]) }
        let memory = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_MODE": "memory"])
        #expect(memory.mode == .memory)
    }

    @Test func restProtocolRaisesTheConnectionLimitUnlessItIsGiven() throws {
        let grpc = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://conductor:50051"])
        #expect(grpc.wireProtocol == .grpc)
        #expect(grpc.maxConnectionsPerEndpoint == 4)
        let rest = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_PROTOCOL": "HTTP", "CONDUCTOR_BASE_URL": "http://conductor:8080"])
        #expect(rest.wireProtocol == .http)
        #expect(rest.maxConnectionsPerEndpoint == ConductorConfiguration.restMaxConnectionsPerEndpoint)
        let explicit = try ConductorConfiguration.fromEnvironment([
            "CONDUCTOR_PROTOCOL": "http", "CONDUCTOR_BASE_URL": "http://conductor:8080", "CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT": "2",
        ])
        #expect(explicit.maxConnectionsPerEndpoint == 2)
        // In code too, whichever is set first.
        var inCode = try ConductorConfiguration(baseURL: "http://conductor:8080")
        #expect(inCode.maxConnectionsPerEndpoint == 4)
        inCode.wireProtocol = .http
        #expect(inCode.maxConnectionsPerEndpoint == ConductorConfiguration.restMaxConnectionsPerEndpoint)
        var setFirst = try ConductorConfiguration(baseURL: "http://conductor:8080")
        setFirst.maxConnectionsPerEndpoint = 4
        setFirst.wireProtocol = .http
        #expect(setFirst.maxConnectionsPerEndpoint == 4, "an explicit value wins even when set before the protocol")
        let wrong = try #require(problem(["CONDUCTOR_PROTOCOL": "soap", "CONDUCTOR_BASE_URL": "http://conductor:8080"]))
        #expect(wrong.contains("CONDUCTOR_PROTOCOL=soap is not one of grpc, http"))
    }

    @Test func urlForms() throws {
        #expect(try ConductorEndpoint.parse("grpc://conductor:50051").transport == .tcp(host: "conductor", port: 50051))
        #expect(try ConductorEndpoint.parse("http://10.0.0.1:8080/").transport == .tcp(host: "10.0.0.1", port: 8080))
        #expect(try ConductorEndpoint.parse("grpc://[::1]:7000").transport == .tcp(host: "::1", port: 7000))
        #expect(try ConductorEndpoint.parse("conductor:9").transport == .tcp(host: "conductor", port: 9))
        #expect(try ConductorEndpoint.parse("grpc://conductor").transport == .tcp(host: "conductor", port: 50051))
        #expect(try ConductorEndpoint.parse("unix:///run/c.sock").transport == .unixSocket(path: "/run/c.sock"))
        #expect(try ConductorEndpoint.parseList(" grpc://a:1 , grpc://b:2 ").count == 2)
        for bad in ["ftp://x:1", "grpc://:1", "grpc://h:0", "grpc://h:70000", "grpc://h:1/path", "grpc://::1:5", "unix://"] {
            #expect(throws: ConductorError.self, "\(bad)") { try ConductorEndpoint.parse(bad) }
        }
    }

    @Test func invalidValuesSetInCodeAreRejectedByTheClient() {
        var configuration = ConductorConfiguration(endpoints: [ConductorEndpoint(.tcp(host: "h", port: 1))])
        configuration.maxRetries = 42
        configuration.cacheSize = 0
        do {
            _ = try ConductorClient(configuration: configuration)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains("maxRetries=42 is out of range 0...10"))
            #expect(error.message.contains("cacheSize=0"))
        }
    }
}
