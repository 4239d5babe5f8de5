import ConductorGRPC
import Foundation
import Testing

/// The REST client against the reference REST conductor: what only REST has (JSON bodies, HTTP
/// statuses, HTTP/1.1 connections), and the resilience rules where HTTP changes how they reach the
/// wire (a deadline or a cancellation closes the connection or resets the stream). The rules
/// themselves are the gRPC client's, shown by the shared suites.
@Suite(.serialized) struct RESTIntegrationTests {
    private static let certificates = TLSTests.certificates

    private func server(_ arguments: [String] = [], tls: Bool = false) async throws -> ReferenceConductor {
        let tlsArguments = tls ? ["--tls-cert", "\(Self.certificates)/server.pem", "--tls-key", "\(Self.certificates)/server.key"] : []
        return try await ReferenceConductor.start(arguments + tlsArguments, protocol: .rest)
    }

    private func client(_ server: ReferenceConductor, timeout: Duration = .seconds(10),
                        configure: (inout ConductorConfiguration) -> Void = { _ in }) throws -> ConductorClient {
        try makeClient(for: server, timeout: timeout) { configuration in
            configuration.retryDelay = .milliseconds(5)
            if server.usesTLS { configuration.tlsCAFile = "\(Self.certificates)/ca.pem" }
            configure(&configuration)
        }
    }

    @Test(arguments: [false, true])
    func everyCallGoesOverTheExpectedHTTPVersionOnKeptAliveConnections(tls: Bool) async throws {
        let server = try await server(tls: tls)
        let client = try client(server)
        for day in 1...20 { _ = try await client.dayProof(Int32(day)) }
        _ = try await client.submit(ConductorEvent(eventType: "one", epoch: 1))
        _ = try await client.submit(batch: [ConductorEvent(eventType: "two", epoch: 2)])
        #expect(try await client.health() == .serving)
        let log = server.log()
        #expect(log.count == 23)
        #expect(Set(log.map(\.httpVersion)) == [tls ? "2" : "1.1"])
        #expect(Set(log.map(\.peer)).count == 1, "one keep-alive connection served every sequential call: \(Set(log.map(\.peer)))")
        await client.shutdown()
    }

    /// A TLS server that offers only HTTP/1.1 by ALPN, or no ALPN at all, is served by libcurl on
    /// the same lanes.
    @Test(arguments: ["--http1-only", "--no-alpn"])
    func anHTTPSConductorWithoutHTTP2IsServedOverHTTP1(alpn: String) async throws {
        let server = try await server([alpn], tls: true)
        let client = try client(server) { $0.maxRetries = 0 }
        for day in 1...5 { #expect(try await client.dayProof(Int32(day)).dayNumber == Int32(day)) }
        _ = try await client.submit(ConductorEvent(eventType: "one", epoch: 1))
        #expect(try await client.health() == .serving)
        let log = server.log()
        #expect(log.count == 7, "no call needed a retry")
        #expect(Set(log.map(\.httpVersion)) == ["1.1"])
        await client.shutdown()
    }

    /// A gzip answer is decoded (by libcurl over HTTP/1.1, by the client over HTTP/2), and the
    /// receive limit bounds what it decodes to: the JSON allowance for a 10,000-byte message is
    /// 6 × 10,000 + 64 KiB, so 200,000 bytes of proof (about 300 on the wire) stop the decoder.
    @Test(arguments: [false, true])
    func gzipAnswersAreDecodedWithinTheReceiveLimit(tls: Bool) async throws {
        let server = try await server(["--compression", "gzip", "--proof-bytes", "7=200000"], tls: tls)
        let client = try client(server) { $0.maxReceiveMessageBytes = 10_000 }
        let proof = try await client.dayProof(1)
        #expect(proof.dayNumber == 1 && !proof.proof.isEmpty)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(7) }
        #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
        await client.shutdown()
        let large = try self.client(server) { $0.maxReceiveMessageBytes = 1 << 20 }
        #expect(try await large.dayProof(7).proof.utf8.count == 200_000)
        await large.shutdown()
    }

    /// A keep-alive connection the conductor closed while it was idle is noticed and replaced. The
    /// loop keeps an idle connection's socket in its epoll set (no epoll_ctl per request) and takes
    /// it out once the close makes it readable; the new connection must be watched although the
    /// loop's table knew the old one (a call on an unwatched socket would wait for its deadline).
    /// No retries are allowed, so a failed first try fails the test.
    @Test func aConnectionTheConductorClosedWhileIdleIsReplacedWithoutAFailure() async throws {
        let server = try await server(["--max-connection-idle", "0.5"])
        let client = try client(server) { $0.maxRetries = 0 }
        _ = try await client.dayProof(1)
        let first = try #require(server.log().first?.peer)
        let localPort = try #require(first.split(separator: ":").last.flatMap { Int($0) }, "peer \(first)")
        try await Self.waitUntilNotEstablished(localPort: localPort)
        #expect(try await client.dayProof(2).dayNumber == 2)
        let peers = server.log().map(\.peer)
        #expect(peers.count == 2 && peers.last != first, "the second call went on a new connection: \(peers)")
        await client.shutdown()
    }

    /// Returns once this process's IPv4 connection from `localPort` is no longer ESTABLISHED
    /// (/proc/net/tcp: the peer closed it, CLOSE_WAIT, or it is gone).
    private static func waitUntilNotEstablished(localPort: Int) async throws {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(30)
        while clock.now < end {
            let table = FileHandle(forReadingAtPath: "/proc/net/tcp").flatMap { try? $0.readToEnd() } ?? Data()
            let established = String(decoding: table, as: UTF8.self).split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                guard fields.count > 3, let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else { return false }
                return port == localPort && fields[3] == "01"
            }
            if !established { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the conductor did not close the idle connection from port \(localPort) within 30 s")
    }

    /// libcurl sends a request again by itself when the reused connection it went on was closed
    /// before any answer byte; a conductor that does not deduplicate submits could then apply one
    /// twice. So without deduplication every HTTP/1.1 write goes on a connection of its own. The
    /// client's own HTTP/2 transport never sends a stream twice by itself: there writes share the
    /// connection. Arguments: TLS, and whether the server speaks h2.
    @Test(arguments: [(false, false), (true, false), (true, true)])
    func writesToAConductorThatDoesNotDeduplicateGoOnNewConnectionsOverHTTP1(tls: Bool, h2: Bool) async throws {
        let server = try await server(tls && !h2 ? ["--http1-only"] : [], tls: tls)
        let client = try client(server) { $0.submitsAreDeduplicated = false }
        for epoch in Int32(1)...3 { _ = try await client.submit(ConductorEvent(eventType: "once", epoch: epoch)) }
        for day in Int32(1)...3 { _ = try await client.dayProof(day) }
        let log = server.log()
        let writes = log.filter { $0.method == "SubmitEvent" }
        #expect(writes.count == 3 && writes.allSatisfy(\.applied), "each write applied once: \(writes.map(\.applied))")
        #expect(Set(writes.map(\.peer)).count == (h2 ? 1 : 3), "connections of the writes: \(writes.map(\.peer))")
        #expect(Set(log.map(\.httpVersion)) == [h2 ? "2" : "1.1"])
        let reads = log.filter { $0.method == "GetDayProof" }.map(\.peer)
        #expect(Set(reads).count == 1, "reads still share a kept-alive connection: \(reads)")
        await client.shutdown()
    }

    @Test(arguments: [false, true])
    func aNonJSONAnswerIsAnInternalErrorNamingTheRoute(tls: Bool) async throws {
        let server = try await server(["--non-json", "GetDayProof"], tls: tls)
        let client = try client(server)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
        #expect(error?.code == .internalError)
        #expect(error?.message.contains("/day-proof/3") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("not JSON") == true, "\(error?.message ?? "")")
        #expect(error?.attempts == 1)
        await client.shutdown()
    }

    @Test(arguments: [false, true])
    func aGigabyteBodyIsCutOffAtTheReceiveLimit(tls: Bool) async throws {
        let server = try await server(["--huge-body", "GetDayProof=1G"], tls: tls)
        let client = try client(server) { $0.maxReceiveMessageBytes = 1 << 20 }
        let clock = ContinuousClock()
        let started = clock.now
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
        #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
        #expect(error?.attempts == 1)
        #expect(clock.now - started < .seconds(5), "the transfer stopped at the limit, not after a gigabyte")
        let entry = await server.waitForLog { $0.method == "GetDayProof" }
        #expect(entry?.outcome == "cancelled", "the server saw the client leave")
        await client.shutdown()
    }

    @Test(arguments: [false, true])
    func redirectsUnsupportedMediaTypeAndAProxys404AreNotRetriedAndSaySo(tls: Bool) async throws {
        let moved = try await server(["--status", "GetDayProof=302"], tls: tls)
        let client = try client(moved)
        let redirect = await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
        #expect(redirect?.code == .unknown)
        #expect(redirect?.message.contains("redirect to /moved/day-proof/3 not followed") == true, "\(redirect?.message ?? "")")
        #expect(redirect?.attempts == 1)
        await client.shutdown()

        let proxy = try await server(["--status", "GetDayProof=404", "--status-body", "<h1>Not Found</h1>", "--status-content-type", "text/html"], tls: tls)
        let proxied = try self.client(proxy)
        let notThere = await conductorError { () async throws(ConductorError) in try await proxied.dayProof(3) }
        #expect(notThere?.code == .unimplemented, "a 404 without JSON is a wrong route, not a day without proof")
        #expect(notThere?.message == "HTTP 404: <h1>Not Found</h1>")
        let again = await conductorError { () async throws(ConductorError) in try await proxied.dayProof(3) }
        #expect(again?.code == .unimplemented)
        #expect(proxy.log().count == 2, "UNIMPLEMENTED is never cached")
        await proxied.shutdown()
    }

    @Test(arguments: [false, true])
    func retryAfterIsThePushback(tls: Bool) async throws {
        let immediate = try await server(["--error", "GetDayProof=429", "--retry-after", "0"], tls: tls)
        let retrying = try client(immediate) { $0.maxRetries = 2 }
        let exhausted = await conductorError { () async throws(ConductorError) in try await retrying.dayProof(3) }
        #expect(exhausted?.code == .resourceExhausted)
        #expect(exhausted?.attempts == 3)
        #expect(immediate.log().count == 3)
        await retrying.shutdown()

        // A pushback beyond the call's deadline ends the call at once: no attempt is wasted (the
        // bound is half the deadline: waiting for the deadline cannot pass, nor a loaded machine fail).
        let later = try await server(["--error", "GetDayProof=429", "--retry-after", "60"], tls: tls)
        let waiting = try client(later, timeout: .seconds(20)) { $0.maxRetries = 2 }
        let clock = ContinuousClock()
        let started = clock.now
        let pushedBack = await conductorError { () async throws(ConductorError) in try await waiting.dayProof(3) }
        #expect(pushedBack?.code == .resourceExhausted)
        #expect(pushedBack?.attempts == 1)
        #expect(clock.now - started < .seconds(10))
        #expect(later.log().count == 1)
        await waiting.shutdown()
    }

    @Test(arguments: [false, true])
    func aDeadlineEndsTheRequestOnTheWire(tls: Bool) async throws {
        let server = try await server(["--delay", "GetDayProof=60"], tls: tls)
        let client = try client(server) { $0.maxRetries = 0 }
        let error = await conductorError { () async throws(ConductorError) in
            try await client.dayProof(3, options: ConductorCallOptions(timeout: .milliseconds(300)))
        }
        #expect(error?.kind == .deadlineExceeded)
        // The client still serves the next call (the HTTP/1.1 connection closed, the h2 stream reset).
        #expect(try await client.health() == .serving)
        let entry = await server.waitForLog { $0.method == "GetDayProof" }
        #expect(entry?.outcome == "cancelled", "the server saw the \(tls ? "stream reset" : "connection closed")")
        await client.shutdown()
    }

    @Test(arguments: [false, true])
    func cancellingTheCallerEndsTheRequestOnTheWire(tls: Bool) async throws {
        let server = try await server(["--delay", "SubmitEvent=60"], tls: tls)
        let client = try client(server)
        let call = Task { () async -> ConductorError? in
            await conductorError { () async throws(ConductorError) in try await client.submit(ConductorEvent(eventType: "x", epoch: 1)) }
        }
        _ = await server.waitForLog(timeout: .milliseconds(300)) { _ in false } // give the request time to arrive
        call.cancel()
        let error = await call.value
        #expect(error?.kind == .cancelled)
        let entry = await server.waitForLog { $0.method == "SubmitEvent" }
        #expect(entry?.outcome == "cancelled")
        #expect(entry?.applied == false)
        await client.shutdown()
    }

    @Test func anUnreachableConductorIsAConnectionFailureNamingIt() async throws {
        let server = try await server()
        let url = server.url
        server.stop()
        var configuration = try ConductorConfiguration(baseURL: url)
        configuration.wireProtocol = .http
        configuration.maxRetries = 1
        configuration.retryDelay = .milliseconds(5)
        configuration.timeout = .seconds(5)
        let client = try ConductorClient(configuration: configuration)
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(error?.message ?? "")")
        await client.shutdown()
    }

    @Test func aServerCertificateFromAnotherCAIsRejected() async throws {
        let server = try await server(tls: true)
        let client = try client(server) { configuration in
            configuration.tlsCAFile = nil // the system trust store does not know the test CA
            configuration.maxRetries = 0
        }
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(3) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.lowercased().contains("certificate") == true, "\(error?.message ?? "")")
        #expect(server.log().isEmpty)
        await client.shutdown()
    }

    @Test func mutualTLSAndBearerTokensAndMetadataReachTheConductor() async throws {
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("rest-token-\(UUID().uuidString)").path
        try "s3cret".write(toFile: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: token) }
        let server = try await server(["--tls-client-ca", "\(Self.certificates)/ca.pem", "--require-client-cert",
                                       "--token-file", token], tls: true)
        let client = try client(server) { configuration in
            configuration.tlsCertificateFile = "\(Self.certificates)/client.pem"
            configuration.tlsKeyFile = "\(Self.certificates)/client.key"
            configuration.authTokenFile = token
            configuration.metadata = try! ConductorMetadata(parsing: "x-tenant=blue", variable: "test")
        }
        #expect(try await client.dayProof(2).dayNumber == 2)
        let entry = try #require(server.log().first)
        #expect(entry.metadata["x-tenant"] == "blue")
        #expect(entry.outcome == "ok")
        await client.shutdown()

        let anonymous = try self.client(server) { configuration in
            configuration.tlsCertificateFile = "\(Self.certificates)/client.pem"
            configuration.tlsKeyFile = "\(Self.certificates)/client.key"
        }
        let refused = await conductorError { () async throws(ConductorError) in try await anonymous.dayProof(2) }
        #expect(refused?.code == .unauthenticated)
        await anonymous.shutdown()
    }

    @Test func shutdownReturnsOnceItsConnectionsAreClosed() async throws {
        let server = try await ReferenceConductor.start(protocol: .rest)
        let client = try makeClient(for: server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for day in Int32(1)...8 {
                group.addTask { _ = try await client.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload)) }
            }
            try await group.waitForAll()
        }
        let open = try ownSocketsConnected(toPort: server.port)
        #expect(open > 0, "keep-alive connections stay open between calls")
        // Shut down from the loop's own thread: had shutdown() returned without waiting for the
        // loop, this task would look at the sockets before the loop could close them.
        let afterShutdown = try await Task(executorPreference: client.loopExecutor) { () async throws -> Int in
            await client.shutdown()
            return try ownSocketsConnected(toPort: server.port)
        }.value
        #expect(afterShutdown == 0, "shutdown returned with a connection still open")
    }

    @Test func failoverAcrossTwoRESTConductorsWhenOneIsKilled() async throws {
        let first = try await server()
        let second = try await server()
        var configuration = try ConductorConfiguration(baseURL: "\(first.url),\(second.url)")
        configuration.wireProtocol = .http
        configuration.retryDelay = .milliseconds(5)
        configuration.timeout = .seconds(10)
        configuration.circuitBreakerThreshold = 3
        let client = try ConductorClient(configuration: configuration)
        for day in 1...20 { _ = try await client.dayProof(Int32(day)) }
        #expect(!first.log().isEmpty && !second.log().isEmpty, "calls are spread over both")
        first.kill()
        var failures = 0
        for index in 1...200 {
            do throws(ConductorError) {
                _ = try await client.submit(ConductorEvent(eventType: "after-kill", epoch: Int32(index)))
            } catch {
                failures += 1
            }
        }
        #expect(failures == 0, "every call after the kill was answered by the survivor")
        #expect(second.log().filter { $0.method == "SubmitEvent" && $0.outcome == "ok" }.count == 200)
        await client.shutdown()
    }
}
