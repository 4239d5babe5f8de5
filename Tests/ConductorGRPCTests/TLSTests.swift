import ConductorGRPC
import Foundation
import Testing

/// TLS against the reference conductor (grpcio with ssl_server_credentials), with a PKI made by
/// Scripts/make-test-certificates.sh for this run only.
@Suite(.serialized) struct TLSTests {
    static let certificates: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conductor-certs-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = ReferenceConductor.repositoryRoot.appendingPathComponent("Scripts/make-test-certificates.sh")
        process.arguments = [directory]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try? process.run()
        process.waitUntilExit()
        return directory
    }()

    private func file(_ name: String) -> String { "\(Self.certificates)/\(name)" }

    private func server(_ certificate: String = "server", clientCA: Bool = false,
                        extraArguments: [String] = []) async throws -> ReferenceConductor {
        var arguments = ["--tls-cert", file("\(certificate).pem"), "--tls-key", file("\(certificate).key")]
        if clientCA { arguments += ["--tls-client-ca", file("ca.pem"), "--require-client-cert"] }
        return try await ReferenceConductor.start(arguments + extraArguments)
    }

    private func client(_ url: String, ca: String? = "ca.pem", clientCertificate: Bool = false,
                        serverName: String? = nil, timeout: Duration = .seconds(5)) throws -> ConductorClient {
        try makeClient(url, timeout: timeout) { configuration in
            configuration.maxRetries = 0
            configuration.tlsCAFile = ca.map(file)
            configuration.tlsServerName = serverName
            if clientCertificate {
                configuration.tlsCertificateFile = file("client.pem")
                configuration.tlsKeyFile = file("client.key")
            }
        }
    }

    private func failure(_ client: ConductorClient) async -> ConductorError? {
        await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
    }

    @Test func verifiedTLSWorksForEveryRPC() async throws {
        let server = try await server()
        let client = try client("grpcs://127.0.0.1:\(server.port)")
        #expect(try await client.dayProof(3).proof == "proof-of-day-3")
        #expect(try await client.submit(ConductorEvent(eventType: "tls", epoch: 1)).eventHash.count == 64)
        #expect(try await client.health() == .serving)
        #expect(server.log().count == 3)
        await client.shutdown()
        let byName = try self.client("grpcs://localhost:\(server.port)")
        #expect(try await byName.dayProof(4).dayNumber == 4, "SNI and host-name check with a DNS name")
        await byName.shutdown()
    }

    @Test func mutualTLS() async throws {
        let server = try await server(clientCA: true)
        let withCertificate = try client("grpcs://127.0.0.1:\(server.port)", clientCertificate: true)
        #expect(try await withCertificate.dayProof(3).dayNumber == 3)
        await withCertificate.shutdown()
        let without = try client("grpcs://127.0.0.1:\(server.port)")
        let error = await failure(without)
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.message.contains("client certificate") == true, "the error names the likely cause: \(String(describing: error))")
        #expect(server.log().count == 1, "the server never saw the call without a certificate")
        await without.shutdown()
    }

    @Test func reconnectionsResumeTheTLSSessionOfEachEndpoint() async throws {
        // Each server ends every connection with GOAWAY after 0.5 s, so the pool keeps reconnecting;
        // two servers check that each endpoint's session is kept (not only the newest one).
        let age = ["--max-connection-age", "0.5", "--max-connection-age-grace", "5"]
        let first = try await server(extraArguments: age)
        let second = try await server(extraArguments: age)
        let client = try client("grpcs://127.0.0.1:\(first.port),grpcs://127.0.0.1:\(second.port)")
        var channels: [ChannelStatistics] { client.statistics.endpoints.compactMap(\.channels.first) }
        for _ in 0..<4 { #expect(try await client.health() == .serving) }
        #expect(channels.count == 2)
        // (On a loaded machine the servers may already have sent GOAWAY: only a first connection is checked.)
        #expect(channels.allSatisfy { $0.reconnects > 0 || !$0.tlsSessionResumed }, "a first handshake has no session to resume")
        let clock = ContinuousClock()
        let end = clock.now + .seconds(10)
        while clock.now < end, !channels.allSatisfy({ $0.reconnects >= 2 && $0.tlsSessionResumed }) {
            _ = try await client.health()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(channels.allSatisfy { $0.reconnects >= 2 }, "\(channels)")
        #expect(channels.allSatisfy { $0.tlsSessionResumed }, "each reconnection presents its endpoint's session: \(channels)")
        await client.shutdown()
    }

    @Test func wrongCAIsAVerificationErrorNamingTheEndpoint() async throws {
        let server = try await server()
        let error = await failure(try client("grpcs://127.0.0.1:\(server.port)", ca: "rogue-ca.pem"))
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("TLS certificate verification failed for 127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("unable to get local issuer certificate") == true)
        #expect(server.log().isEmpty)
    }

    @Test func wrongHostNameIsRejected() async throws {
        let server = try await server("other")
        let error = await failure(try client("grpcs://127.0.0.1:\(server.port)"))
        #expect(error?.message.contains("hostname mismatch") == true || error?.message.contains("IP address mismatch") == true,
                "\(String(describing: error))")
        let overridden = try client("grpcs://127.0.0.1:\(server.port)", serverName: "other.example")
        #expect(try await overridden.dayProof(3).dayNumber == 3, "CONDUCTOR_TLS_SERVER_NAME names the certificate to expect")
        await overridden.shutdown()
    }

    @Test func expiredCertificateIsRejected() async throws {
        let server = try await server("expired")
        let error = await failure(try client("grpcs://127.0.0.1:\(server.port)"))
        #expect(error?.message.contains("certificate has expired") == true, "\(String(describing: error))")
    }

    @Test func serverWithoutALPNh2IsRejected() async throws {
        let port = try unusedPort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", file("server.pem"), "-key", file("server.key"),
                            "-alpn", "http/1.1", "-quiet"]
        server.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        server.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try server.run()
        defer { server.terminate() }
        try await waitUntilListening(port: port)
        let error = await failure(try client("grpcs://127.0.0.1:\(port)"))
        #expect(error?.message.contains("did not agree to HTTP/2 (ALPN h2 required") == true, "\(String(describing: error))")
    }

    @Test func cleartextAndTLSMismatchesFailFastAndClearly() async throws {
        let tlsServer = try await server()
        let clock = ContinuousClock()
        var start = clock.now
        // Deadlines far beyond the bounds: a loaded machine must not pass for a hang, nor a hang for it.
        let plainToTLS = await failure(try makeClient("grpc://127.0.0.1:\(tlsServer.port)", timeout: .seconds(30)) { $0.maxRetries = 0 })
        #expect(clock.now - start < .seconds(10), "failed fast, not at the 30 s deadline")
        #expect(plainToTLS?.code == .unavailable)
        #expect(plainToTLS?.message.contains("127.0.0.1:\(tlsServer.port)") == true, "\(String(describing: plainToTLS))")
        #expect(plainToTLS?.message.contains("TLS") == true, "the error names the likely cause: \(String(describing: plainToTLS))")

        let plainServer = try await ReferenceConductor.start()
        start = clock.now
        let tlsToPlain = await failure(try client("grpcs://127.0.0.1:\(plainServer.port)", timeout: .seconds(30)))
        #expect(clock.now - start < .seconds(10), "failed fast, not at the 30 s deadline")
        #expect(tlsToPlain?.message.contains("TLS handshake with 127.0.0.1:\(plainServer.port) failed") == true,
                "\(String(describing: tlsToPlain))")
    }

    @Test func unusableFilesAreConfigurationErrors() throws {
        func message(_ configure: (inout ConductorConfiguration) -> Void) -> String? {
            do {
                _ = try makeClient("grpcs://127.0.0.1:1", configure: configure)
                return nil
            } catch let error as ConductorError {
                return error.kind == .invalidConfiguration ? error.message : "wrong kind \(error.kind)"
            } catch {
                return "unexpected \(error)"
            }
        }
        #expect(message { $0.tlsCAFile = "/no/such/ca.pem" }?.contains("/no/such/ca.pem") == true)
        let mismatch = message { configuration in
            configuration.tlsCAFile = file("ca.pem")
            configuration.tlsCertificateFile = file("client.pem")
            configuration.tlsKeyFile = file("server.key")
        }
        #expect(mismatch?.contains("does not match") == true, "\(String(describing: mismatch))")
        let half = try? ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpcs://h:1", "CONDUCTOR_TLS_CERT_FILE": "x.pem"])
        #expect(half == nil)
    }
}
