import ConductorGRPC
import Foundation
import LockedState
import Testing

/// Metadata, interceptors, bearer tokens, response metadata and error details, against the
/// reference conductor (which records every request's metadata).
@Suite("Call API", .timeLimit(.minutes(1)))
struct CallAPITests {
    private static let event = ConductorEvent(eventType: "call.api", epoch: 3, payload: [1, 2, 3])

    @Test func metadataReachesTheServerOnEveryRPCAndEveryRetryAttempt() async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "GetDayProof=2"])
        let defaults = try ConductorMetadata(["x-client": "call-api-tests"])
        let client = try makeClient(server.url) {
            $0.retryDelay = .milliseconds(1)
            $0.retryMaxDelay = .milliseconds(5)
            $0.metadata = defaults
        }
        var options = ConductorCallOptions()
        try options.metadata.append("x-tenant", "acme")
        try options.metadata.append("trace-context-bin", bytes: [0, 1, 0xFE, 0xFF])

        _ = try await client.dayProof(7, options: options)
        _ = try await client.submit(Self.event, options: options)
        _ = try await client.submit(batch: [Self.event], options: options)
        _ = try await client.health(service: "", options: options)
        _ = try await client.standardHealth(options: options)
        await client.shutdown()

        let log = server.log()
        #expect(log.map(\.method).sorted()
                == ["Check", "GetDayProof", "GetDayProof", "GetDayProof", "HealthCheck", "SubmitEvent", "SubmitEventsBatch"])
        #expect(log.filter { $0.method == "GetDayProof" }.map(\.attempt).sorted() == [0, 1, 2])
        for entry in log {
            #expect(entry.metadata["x-client"] == "call-api-tests", "\(entry.method)")
            #expect(entry.metadata["x-tenant"] == "acme", "\(entry.method)")
            #expect(entry.metadata["trace-context-bin"] == Data([0, 1, 0xFE, 0xFF]).base64EncodedString(), "\(entry.method)")
        }
    }

    @Test func reservedAndMalformedNamesAreRefusedWithAClearError() {
        var metadata = ConductorMetadata()
        for name in [":path", "grpc-timeout", "content-type", "te", "user-agent", "connection", "Upper", "sp ace", ""] {
            #expect(throws: ConductorError.self, "\(name)") { try metadata.append(name, "v") }
        }
        #expect(throws: ConductorError.self) { try metadata.append("x-bytes", bytes: [1]) } // binary needs -bin
        #expect(throws: ConductorError.self) { try metadata.append("x-text-bin", "v") } // -bin needs bytes
        #expect(throws: ConductorError.self) { try metadata.append("x-line", "a\nb") }
        do {
            try metadata.append("grpc-status", "0")
        } catch {
            #expect(error.kind == .invalidRequest)
            #expect(error.message.contains("grpc-status") && error.message.contains("reserved"))
        }
        #expect(metadata.isEmpty)
    }

    @Test func credentialsAreRedactedInDescriptions() throws {
        let metadata = try ConductorMetadata(["authorization": "Bearer s3cret", "x-api-key": "k3y", "x-tenant": "acme"])
        #expect(metadata.description == "authorization=<redacted>, x-api-key=<redacted>, x-tenant=acme")
        #expect(!"\(metadata)".contains("s3cret"))
    }

    @Test func environmentMetadataIsParsedAndErrorsNameTheVariable() throws {
        let configuration = try ConductorConfiguration.fromEnvironment([
            "CONDUCTOR_BASE_URL": "grpc://127.0.0.1:1", "CONDUCTOR_METADATA": "x-tenant = acme, x-zone=eu-1",
        ])
        #expect(configuration.metadata.entries.map(\.name) == ["x-tenant", "x-zone"])
        #expect(configuration.metadata["x-zone"] == ["eu-1"])
        let error = #expect(throws: ConductorError.self) {
            try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://127.0.0.1:1", "CONDUCTOR_METADATA": "grpc-x=1"])
        }
        #expect(error?.message.contains("CONDUCTOR_METADATA") == true)
    }

    @Test func aServerThatRequiresATokenRefusesCallsWithoutIt() async throws {
        let tokens = try TokenFiles(serverToken: "token-1")
        let server = try await ReferenceConductor.start(["--token-file", tokens.server.path])
        let client = try makeClient(server.url)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == "missing or invalid bearer token")
        var options = ConductorCallOptions()
        try options.metadata.append("authorization", "Bearer token-1")
        #expect(try await client.dayProof(1, options: options).dayNumber == 1)
        await client.shutdown()
    }

    @Test func theTokenProviderIsCalledOnceForConcurrentCallsAndOnceMoreAfterRejection() async throws {
        let tokens = try TokenFiles(serverToken: "token-1")
        let server = try await ReferenceConductor.start(["--token-file", tokens.server.path])
        let provided = Locked(0)
        let current = Locked("token-1")
        let interceptor = BearerTokenInterceptor {
            provided.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(50)) // every call arrives while the first fetch runs
            return BearerToken(current.withLock { $0 })
        }
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.timeout = .seconds(20)
        let client = try ConductorClient(configuration: configuration, interceptors: [interceptor])

        try await Self.hundredCalls(client)
        #expect(provided.withLock { $0 } == 1)

        try tokens.rotateServer(to: "token-2")
        current.withLock { $0 = "token-2" }
        try await Self.hundredCalls(client)
        #expect(provided.withLock { $0 } == 2)
        await client.shutdown()
        let rejected = server.log().filter { $0.outcome == "error:UNAUTHENTICATED" }
        #expect(!rejected.isEmpty && rejected.allSatisfy { $0.metadata["authorization"] == "Bearer token-1" })
    }

    @Test func aRewrittenTokenFileIsPickedUpWithoutARestart() async throws {
        let tokens = try TokenFiles(serverToken: "rotating-1")
        let server = try await ReferenceConductor.start(["--token-file", tokens.server.path])
        let client = try makeClient(server.url) { $0.authTokenFile = tokens.client.path }
        #expect(try await client.dayProof(1).dayNumber == 1)

        try tokens.rotateServer(to: "rotating-2")
        try tokens.rotateClient(to: "rotating-2")
        #expect(try await client.dayProof(2).dayNumber == 2)
        await client.shutdown()
        let days = server.log().filter { $0.day == 2 }.map { "\($0.outcome) \($0.metadata["authorization"] ?? "")" }
        #expect(days == ["error:UNAUTHENTICATED Bearer rotating-1", "ok Bearer rotating-2"])
    }

    @Test func anUnreadableTokenFileIsAConfigurationError() throws {
        let error = #expect(throws: ConductorError.self) {
            try makeClient("grpc://127.0.0.1:1") { $0.authTokenFile = "/nonexistent/token" }
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("CONDUCTOR_AUTH_TOKEN_FILE") == true)
    }

    @Test func responseMetadataAndTrailersAreReadableOnSuccess() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let response = try await client.response(to: .dayProof(9))
        #expect(response.message.dayNumber == 9)
        #expect(response.initialMetadata["x-served-by"] == ["reference-conductor"])
        #expect(response.initialMetadata["content-type"] == ["application/grpc"])
        #expect(response.trailers["grpc-status"] == ["0"])
        #expect(response.endpoint == "127.0.0.1:\(server.port)")
        #expect(response.attempts == 1)
        await client.shutdown()
    }

    @Test func errorsCarryTheTrailersAndTheRichStatus() async throws {
        let server = try await ReferenceConductor.start(["--error", "GetDayProof=FAILED_PRECONDITION", "--error-details"])
        let client = try makeClient(server.url)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(4) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.trailers["x-error-trailer"] == ["injected"])
        let details = try #require(error?.statusDetails)
        #expect(details.code == Int32(ConductorError.Code.failedPrecondition.rawValue))
        #expect(details.message == "injected FAILED_PRECONDITION")
        #expect(details.details == [.init(typeURL: "type.googleapis.com/google.rpc.ErrorInfo", value: [0x0A, 8] + Array("injected".utf8))])
        #expect(!(error?.description.contains("x-error-trailer") ?? true))
        await client.shutdown()
    }

    @Test func statusDetailsRoundTrip() throws {
        let details = ConductorStatusDetails(code: 5, message: "no proof", details: [
            .init(typeURL: "type.googleapis.com/google.rpc.ResourceInfo", value: [1, 2, 3]),
            .init(typeURL: "", value: []),
        ])
        #expect(ConductorStatusDetails(serialized: details.serialized) == details)
        #expect(ConductorStatusDetails(serialized: [0xFF, 0xFF]) == nil)
    }

    private static func hundredCalls(_ client: ConductorClient) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask { _ = try await client.dayProof(Int32(index % 50 + 1), options: ConductorCallOptions(cachePolicy: .reload)) }
            }
            try await group.waitForAll()
        }
    }
}

/// A token file the server accepts and one the client reads, in a private directory.
struct TokenFiles {
    let server: URL
    let client: URL

    init(serverToken: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        server = directory.appendingPathComponent("server-token")
        client = directory.appendingPathComponent("client-token")
        try rotateServer(to: serverToken)
        try rotateClient(to: serverToken)
    }

    func rotateServer(to token: String) throws {
        try Data((token + "\n").utf8).write(to: server, options: .atomic)
    }

    func rotateClient(to token: String) throws {
        try Data((token + "\n").utf8).write(to: client, options: .atomic)
    }
}
