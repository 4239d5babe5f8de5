import GRPCWire
import ConductorGRPC
import Foundation
import Testing

/// Hostile and broken servers (Scripts/fault_server.py): every fault gives the caller a precise
/// ConductorError within its deadline, other calls on the connection go on where HTTP/2 allows,
/// memory stays bounded, and the process stays healthy.
///
/// Serialized: the elapsed-time bounds and the RSS measurement must not compete with each other.
@Suite(.serialized) struct HostileServerTests {
    // MARK: - The fault server itself

    @Test func okModeAnswersLikeAConductor() async throws {
        let server = try await FaultServer.start(mode: "ok")
        let client = try hostileClient(server)
        let proof = try await client.dayProof(7)
        #expect(proof == DayProof(dayNumber: 7, proof: "proof-of-day-7", proofHash: sha256Hex("proof-of-day-7"),
                                  canonical: true, source: "fault-server"))
        let receipt = try await client.submit(ConductorEvent(eventType: "e", epoch: -3, payload: Array("hello".utf8)))
        #expect(receipt == ConductorReceipt(eventHash: sha256Hex("hello"), epoch: -3))
        #expect(try await client.health() == .serving)
        #expect(server.log("request").map(\.path) == [
            "/chorus.ConductorBridge/GetDayProof", "/chorus.ConductorBridge/SubmitEvent", "/chorus.ConductorBridge/HealthCheck",
        ])
        await client.shutdown()
    }

    // MARK: - RST_STREAM

    @Test(arguments: ResetCase.all)
    func resetBeforeTheResponseMapsTheCodeAndSparesTheOtherStreams(_ reset: ResetCase) async throws {
        // Odd days get the reset, even days a correct answer after 0.5 s.
        let server = try await FaultServer.start(mode: "rst:\(reset.name)", ["--only-odd-days", "--delay-ok", "0.5"])
        let client = try hostileClient(server)
        let concurrent = Task { try await client.dayProof(2) }
        #expect(await server.waitForLog { $0.event == "request" } != nil)

        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == reset.code, "\(String(describing: error))")
        #expect(error?.kind == reset.kind)
        #expect(error?.message == "stream reset by the server with \(reset.name)")
        #expect(error?.isRetryable == reset.retryable)
        // REFUSED_STREAM (not processed) may be retried transparently, whatever maxRetries says.
        let attempts = server.log("answer").filter { $0.action != "ok" }.count
        #expect(error?.attempts == attempts)
        if reset.code == .unavailable {
            #expect(attempts > 1, "REFUSED_STREAM is retried transparently although maxRetries = 0")
        } else {
            #expect(attempts == 1)
        }
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")

        // The stream open at the same time and a later one finish normally on the same connection.
        #expect(try await concurrent.value.proof == "proof-of-day-2")
        #expect(try await client.dayProof(4).proof == "proof-of-day-4")
        #expect(Set(server.log("request").map(\.connection)) == [1])
        #expect(server.log("reset").isEmpty, "the client must not reset a stream the server reset")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test(arguments: [("CANCEL", ConductorError.Code.cancelled), ("INTERNAL_ERROR", .internalError), ("NO_ERROR", .internalError),
                      ("ENHANCE_YOUR_CALM", .resourceExhausted)])
    func resetAfterTheResponseHeadersButBeforeTheTrailersIsAFailure(_ name: String, _ code: ConductorError.Code) async throws {
        let server = try await FaultServer.start(mode: "rst-after-headers:\(name)", ["--only-odd-days"])
        // Retries allowed: only the commitment (response headers) keeps RESOURCE_EXHAUSTED from a retry.
        let client = try hostileClient(server) { $0.maxRetries = 3; $0.retryDelay = .milliseconds(1) }
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == code, "\(String(describing: error))")
        #expect(error?.message == "stream reset by the server with \(name)")
        #expect(error?.attempts == 1, "headers arrived: the call is committed")
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")
        #expect(try await client.dayProof(2).proof == "proof-of-day-2")
        #expect(Set(server.log("request").map(\.connection)) == [1])
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test(arguments: ["trailers-then-rst-no-error", "rst-after-trailers:NO_ERROR", "rst-after-trailers:CANCEL",
                      "rst-after-trailers:INTERNAL_ERROR", "rst-after-trailers:REFUSED_STREAM"])
    func resetAfterTheTrailersIsASuccess(_ mode: String) async throws {
        let server = try await FaultServer.start(mode: mode)
        let client = try hostileClient(server)
        let proof = try await client.dayProof(3)
        #expect(proof.proof == "answered-before-end-stream")
        // A 1 MiB request is still being sent (the server reads none of it) when the answer and
        // the reset arrive: the case where the reset really closes a half-open stream.
        let event = ConductorEvent(eventType: "big", epoch: 1, payload: [UInt8](repeating: 7, count: 1 << 20))
        let receipt = try await client.submit(event)
        #expect(receipt.eventHash == "answered-before-end-stream")
        let log = server.log()
        #expect(log.filter { $0.event == "answer" }.count == 2)
        #expect(log.filter { $0.event == "request" }.isEmpty, "the server answered before reading any END_STREAM")
        #expect(log.filter { $0.event == "reset" }.isEmpty, "the client must not reset a finished call")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func manyResetsAfterTrailersNeitherFailCallsNorDropTheConnection() async throws {
        let server = try await FaultServer.start(mode: "trailers-then-rst-no-error")
        // One connection at most: the server advertises no stream limit, so past 100 streams the pool
        // would otherwise open a second connection, which is not what this test is about.
        let client = try makeClient(server.url, timeout: .seconds(20)) { $0.maxConnectionsPerEndpoint = 1 }
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for day in 1...300 {
                group.addTask { try await client.dayProof(Int32(day)).proof != "answered-before-end-stream" }
            }
            var failures = 0
            for try await failed in group where failed { failures += 1 }
            return failures
        }
        #expect(failures == 0)
        #expect(server.log("answer").count == 300)
        #expect(server.log("connection").count == 1, "300 resets with NO_ERROR after trailers are no reason to reconnect")
        await client.shutdown()
    }

    // MARK: - GOAWAY

    @Test func goawayMidStreamFailsTheStreamAsUnavailableAndTheNextCallReconnects() async throws {
        let server = try await FaultServer.start(mode: "goaway-midstream", ["--only-odd-days"])
        let client = try hostileClient(server)
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        // The server had the request (last-stream-id covers it): it may have processed it. The
        // connection closed under it.
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isRetryable == true)
        // "connection closed by 127.0.0.1:PORT after GOAWAY (…)", or "read from 127.0.0.1:PORT failed:
        // Connection reset by peer after GOAWAY (…)" when the server's close turns into a TCP reset.
        #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
        #expect(error?.message.hasSuffix(" after GOAWAY (NO_ERROR: fault-server: going away mid-stream)") == true,
                "\(String(describing: error))")
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")
        #expect(try await client.dayProof(2).proof == "proof-of-day-2")
        #expect(server.log("request").map(\.connection) == [1, 2], "the next call uses a new connection")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func goawayBelowTheStreamIsUnavailableAndProvablyNotProcessed() async throws {
        let server = try await FaultServer.start(mode: "goaway-refuse")
        let client = try hostileClient(server)
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isRetryable == true)
        #expect(error?.message == "stream reset by the server with REFUSED_STREAM")
        #expect(error?.attempts == server.log("answer").count, "transparent retries only")
        #expect(server.log("answer").count > 1, "a stream above the GOAWAY's last-stream-id is sent again (maxRetries = 0)")
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    // MARK: - Broken messages

    @Test func lengthPrefixLargerThanTheDataIsInternal() async throws {
        let error = try await expectFault("truncated-message", .internalError)
        #expect(error?.message == "response message truncated (100 bytes missing)")
    }

    @Test func prefixAnnouncingTwoGibibytesFailsAtOnceWithoutWaitingForTheData() async throws {
        let server = try await FaultServer.start(mode: "prefix-2gib")
        let client = try hostileClient(server)
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
        #expect(error?.kind == .rpcFailed)
        #expect(error?.message == "response message of 2147483648 bytes exceeds the receive limit of 4194304 bytes")
        #expect(elapsed < .seconds(5), "the stream stays open: only the prefix can end the call before the 10 s deadline (took \(elapsed))")
        #expect(await server.waitForLog { $0.event == "reset" }?.code == "CANCEL", "the client resets the stream")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func compressedFlagWithoutEncodingIsInternal() async throws {
        let error = try await expectFault("compressed-no-encoding", .internalError)
        #expect(error?.message == "compressed response message with no grpc-encoding")
    }

    @Test func trailersWithoutGrpcStatusAreUnknown() async throws {
        let error = try await expectFault("no-grpc-status", .unknown)
        #expect(error?.message == "response ended without grpc-status")
    }

    @Test(arguments: [(503, ConductorError.Code.unavailable), (404, .unimplemented), (431, .unknown), (400, .internalError),
                      (401, .unauthenticated), (403, .permissionDenied), (429, .unavailable), (502, .unavailable),
                      (504, .unavailable), (500, .unknown)])
    func httpStatusWithoutGrpcStatusIsMapped(_ status: Int, _ code: ConductorError.Code) async throws {
        let error = try await expectFault("http-\(status)", code)
        #expect(error?.message == "HTTP status \(status) without grpc-status")
    }

    @Test func htmlContentTypeIsUnknown() async throws {
        let error = try await expectFault("content-type-html", .unknown)
        #expect(error?.message == "response content-type \"text/html; charset=utf-8\" is not gRPC")
    }

    /// An informational (1xx) header block before the response is not the response's headers.
    @Test func anInformationalResponseBeforeTheAnswerIsSkipped() async throws {
        let server = try await FaultServer.start(mode: "informational-first")
        let client = try hostileClient(server)
        #expect(try await client.dayProof(7).proof == "proof-of-day-7")
        #expect(try await client.health() == .serving)
        await client.shutdown()
    }

    @Test func invalidProtobufInAWellFramedMessageIsInternal() async throws {
        let error = try await expectFault("invalid-protobuf", .internalError)
        #expect(error?.message == "the response is not a valid chorus.DayProofResponse message")
    }

    // MARK: - Responses that never end or never stop

    @Test func responseThatNeverEndsHitsTheDeadline() async throws {
        let server = try await FaultServer.start(mode: "never-ends")
        let client = try hostileClient(server, timeout: .seconds(2))
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .deadlineExceeded, "\(String(describing: error))")
        #expect(error?.kind == .deadlineExceeded)
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(6), "ended by the 2 s deadline (nothing else would end it this soon), took \(elapsed)")
        #expect(await server.waitForLog { $0.event == "reset" }?.code == "CANCEL", "the server sees the cancellation")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func endlessDataIsCutOffAtTheReceiveLimitWithBoundedMemory() async throws {
        let server = try await FaultServer.start(mode: "endless-data", ["--only-odd-days"])
        let client = try hostileClient(server, timeout: .seconds(10))
        #expect(try await client.dayProof(2).dayNumber == 2) // connected: its buffers are not growth
        let before = try residentBytes()
        let rounds = 40
        for round in 1...rounds {
            let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(Int32(2 * round + 1)) }
            #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
            #expect(error?.kind == .rpcFailed)
            #expect(error?.message == "response larger than the receive limit of 4194304 bytes")
            #expect(elapsed < .seconds(8), "cut off at the receive limit, not at the 10 s deadline: took \(elapsed)")
        }
        let growth = try residentBytes() - before
        // Each stream was reset by the client once past the limit; the server could not send much more.
        let sent = try await waitForSentEntries(server, count: rounds)
        #expect(sent.allSatisfy { $0.why == "stream reset" }, "\(sent.map(\.why))")
        #expect(sent.allSatisfy { ($0.bytes ?? 0) > 4 << 20 && ($0.bytes ?? 0) < 12 << 20 }, "\(sent.map(\.bytes))")
        let streamed = sent.reduce(0) { $0 + ($1.bytes ?? 0) }
        #expect(streamed > 160 << 20)
        // AddressSanitizer keeps freed memory in quarantine, so RSS says nothing under it.
        if ProcessInfo.processInfo.environment["CONDUCTOR_TEST_SANITIZER"] == nil {
            #expect(growth < 32 << 20, "RSS grew by \(growth >> 20) MiB while the server streamed \(streamed >> 20) MiB")
        }
        #expect(server.log("reset").map(\.code) == Array(repeating: "CANCEL", count: rounds))
        #expect(try await client.health() == .serving, "the connection survives")
        #expect(server.log("connection").count == 1)
        await client.shutdown()
        try await expectProcessHealthy()
    }

    // MARK: - Headers

    @Test(arguments: ["huge-headers", "huge-trailers"])
    func headerBlockAboveTheAnnouncedLimitIsResourceExhausted(_ mode: String) async throws {
        let server = try await FaultServer.start(mode: mode, ["--only-odd-days"])
        let client = try hostileClient(server)
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
        #expect(error?.kind == .rpcFailed)
        #expect(error?.message == "response headers larger than the header list limit")
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")
        // HPACK state stays in sync: the connection goes on.
        #expect(try await client.dayProof(2).proof == "proof-of-day-2")
        #expect(Set(server.log("request").map(\.connection)) == [1])
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func headersAndTrailersAreEachWithinTheLimitThoughNotTogether() async throws {
        let server = try await FaultServer.start(mode: "big-headers-and-trailers")
        let client = try hostileClient(server)
        #expect(try await client.dayProof(5).proof == "proof-of-day-5")
        await client.shutdown()
    }

    // MARK: - Servers that are not (working) HTTP/2 servers

    @Test func settingsThenSilenceHitsTheCallDeadline() async throws {
        let server = try await FaultServer.start(mode: "settings-then-silence")
        let client = try hostileClient(server, timeout: .seconds(2))
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .deadlineExceeded, "\(String(describing: error))")
        #expect(error?.kind == .deadlineExceeded)
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(6), "ended by the 2 s deadline (nothing else would end it this soon), took \(elapsed)")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func keepalivePingsOnlyWhileACallWaitsInSilence() async throws {
        let server = try await FaultServer.start(mode: "ok", ["--delay-ok", "2.5"])
        let client = try hostileClient(server) {
            $0.keepaliveInterval = .milliseconds(400)
            $0.keepaliveTimeout = .seconds(5)
        }
        _ = try await client.dayProof(1, options: ConductorCallOptions(cachePolicy: .reload)) // 2.5 s of silence
        try await Task.sleep(for: .milliseconds(1500)) // the connection stays open, idle
        await client.shutdown()
        let pings = server.log("ping")
        #expect(pings.count >= 2, "a PING every 400 ms of silence while the call waits: \(pings.count)")
        #expect(pings.allSatisfy { ($0.open ?? 0) > 0 }, "no PING while no call is open: \(pings.map(\.open))")
    }

    @Test func settingsThenSilenceIsCaughtByKeepaliveBeforeALongDeadline() async throws {
        let server = try await FaultServer.start(mode: "settings-then-silence")
        let client = try hostileClient(server, timeout: .seconds(20)) {
            $0.keepaliveInterval = .seconds(1)
            $0.keepaliveTimeout = .seconds(1)
        }
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.message.contains("keepalive ping to 127.0.0.1:\(server.port) not acknowledged") == true,
                "\(String(describing: error))")
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(10), "keepalive (interval + timeout), not the 20 s deadline: took \(elapsed)")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func silentServerHitsTheCallDeadline() async throws {
        let server = try await FaultServer.start(mode: "silent")
        let client = try hostileClient(server, timeout: .seconds(2))
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .deadlineExceeded, "\(String(describing: error))")
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(6), "ended by the 2 s deadline (nothing else would end it this soon), took \(elapsed)")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test func silentServerHitsTheConnectTimeoutBeforeALongDeadline() async throws {
        let server = try await FaultServer.start(mode: "silent")
        let client = try hostileClient(server, timeout: .seconds(20)) { $0.connectTimeout = .seconds(1) }
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("connect to 127.0.0.1:\(server.port) timed out after 1.0 s (no HTTP/2 SETTINGS received)") == true,
                "\(String(describing: error))")
        #expect(elapsed >= .seconds(1))
        #expect(elapsed < .seconds(10), "the 1 s connect timeout, not the 20 s deadline: took \(elapsed)")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    @Test(arguments: [("not-http2", "\"HTTP/1.1 400 Bad Request\""), ("garbage", "bytes 0d b4 5b 02 a9 50 f7 9e")])
    func serverThatNeverSpeaksHTTP2FailsFastAsAConnectionError(_ mode: String, _ sent: String) async throws {
        let server = try await FaultServer.start(mode: mode)
        let client = try hostileClient(server)
        let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isRetryable == true)
        #expect(error?.message.contains("127.0.0.1:\(server.port) is not an HTTP/2 server: it sent \(sent) instead of SETTINGS") == true,
                "\(String(describing: error))")
        #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)")
        #expect(await server.waitForLog { $0.event == "closed" } != nil, "the client closes the socket")
        await client.shutdown()
        try await expectProcessHealthy()
    }

    // MARK: - What the server sees of our requests

    @Test func requestEndStreamRidesOnTheLastDataFrame() async throws {
        let server = try await FaultServer.start(mode: "record")
        let client = try hostileClient(server, timeout: .seconds(10))
        let payloadSizes = [10, 20 << 10, 1 << 20]
        for (index, size) in payloadSizes.enumerated() {
            let event = ConductorEvent(eventType: "record", epoch: Int32(index), payload: [UInt8](repeating: 0x5A, count: size))
            _ = try await client.submit(event)
        }
        _ = try await client.dayProof(9)
        let requests = server.log("request")
        try #require(requests.count == 4)
        for (size, request) in zip(payloadSizes, requests) {
            #expect(request.path == "/chorus.ConductorBridge/SubmitEvent")
            #expect(request.endStreamOn == "data", "payload \(size): END_STREAM came on \(request.endStreamOn ?? "-")")
            #expect(request.endStreamWithData == true, "payload \(size)")
            #expect(request.dataFrames == request.dataFramesWithBytes, "payload \(size): no empty DATA frame")
            #expect((request.dataBytes ?? 0) > size && (request.dataBytes ?? 0) < size + 64, "payload \(size): \(request.dataBytes ?? 0) bytes")
        }
        #expect(requests[0].dataFrames == 1)
        #expect((requests[2].dataFrames ?? 0) >= 64, "1 MiB in frames of at most 16 KiB")
        #expect(requests[3].path == "/chorus.ConductorBridge/GetDayProof")
        #expect(requests[3].dataFrames == 1)
        #expect(requests[3].endStreamWithData == true)
        await client.shutdown()
    }
}

// MARK: - Cases and helpers

/// One RST_STREAM error code and what the caller must see for it (wire contract).
struct ResetCase: Sendable, CustomTestStringConvertible {
    var name: String
    var code: ConductorError.Code
    var kind: ConductorError.Kind = .rpcFailed
    var retryable = false
    var testDescription: String { name }

    static let all: [ResetCase] = [
        ResetCase(name: "NO_ERROR", code: .internalError),
        ResetCase(name: "PROTOCOL_ERROR", code: .internalError),
        ResetCase(name: "INTERNAL_ERROR", code: .internalError),
        ResetCase(name: "FLOW_CONTROL_ERROR", code: .internalError),
        ResetCase(name: "SETTINGS_TIMEOUT", code: .internalError),
        ResetCase(name: "STREAM_CLOSED", code: .internalError),
        ResetCase(name: "FRAME_SIZE_ERROR", code: .internalError),
        // Provably not processed: a connection-level failure for the caller, safe to retry.
        ResetCase(name: "REFUSED_STREAM", code: .unavailable, kind: .connectionFailed, retryable: true),
        ResetCase(name: "CANCEL", code: .cancelled, kind: .rpcFailed),
        ResetCase(name: "COMPRESSION_ERROR", code: .internalError),
        ResetCase(name: "CONNECT_ERROR", code: .internalError),
        ResetCase(name: "ENHANCE_YOUR_CALM", code: .resourceExhausted, retryable: true),
        ResetCase(name: "INADEQUATE_SECURITY", code: .permissionDenied),
        ResetCase(name: "HTTP_1_1_REQUIRED", code: .internalError),
    ]
}

/// A client for a fault server: one attempt per call (no retries), no breaker in the way, and a
/// deadline long enough that failing fast and failing at the deadline are far apart.
private func hostileClient(
    _ server: FaultServer,
    timeout: Duration = .seconds(10),
    configure: (inout ConductorConfiguration) -> Void = { _ in }
) throws -> ConductorClient {
    try makeClient(server.url, timeout: timeout) {
        $0.maxRetries = 0
        $0.circuitBreakerThreshold = 50
        configure(&$0)
    }
}

/// Runs `body` and returns the ConductorError it throws (nil on success) and how long it took.
private func timed<T>(_ body: () async throws(ConductorError) -> T) async -> (ConductorError?, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let error = await conductorError(body)
    return (error, clock.now - start)
}

/// Starts a server in `mode`, makes one GetDayProof call and checks that it fails promptly with
/// `code` (kind `.rpcFailed`, not retryable unless the code is), then that the process is healthy.
private func expectFault(
    _ mode: String,
    _ code: ConductorError.Code,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> ConductorError? {
    let server = try await FaultServer.start(mode: mode, ["--only-odd-days"])
    let client = try hostileClient(server)
    let (error, elapsed) = await timed { () async throws(ConductorError) in try await client.dayProof(1) }
    #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
    #expect(error?.kind == .rpcFailed, sourceLocation: sourceLocation)
    #expect(error?.method == .getDayProof, sourceLocation: sourceLocation)
    #expect(error?.endpoint == "127.0.0.1:\(server.port)", sourceLocation: sourceLocation)
    #expect(error?.attempts == 1, sourceLocation: sourceLocation)
    #expect(elapsed < .seconds(5), "failed fast, not at the 10 s deadline: took \(elapsed)", sourceLocation: sourceLocation)
    // The connection is not poisoned: the next call on it is answered.
    let next = await conductorError { () async throws(ConductorError) in
        let proof = try await client.dayProof(2)
        #expect(proof.proof == "proof-of-day-2", sourceLocation: sourceLocation)
        return proof
    }
    #expect(next == nil, "\(String(describing: next))", sourceLocation: sourceLocation)
    #expect(Set(server.log("request").map(\.connection)) == [1], sourceLocation: sourceLocation)
    await client.shutdown()
    try await expectProcessHealthy(sourceLocation: sourceLocation)
    return error
}

/// One well-behaved server for the whole suite, started on first use.
private let goodServer = Task { try await FaultServer.start(mode: "ok") }

/// A fresh client to a well-behaved server gets its answer: nothing the fault left behind (threads,
/// the event loop, file descriptors) is broken.
private func expectProcessHealthy(sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let server = try await goodServer.value
    let client = try makeClient(server.url, timeout: .seconds(5)) { $0.maxRetries = 0 }
    let day = Int32.random(in: 100...999)
    let proof = try await client.dayProof(day)
    #expect(proof.dayNumber == day && proof.proof == "proof-of-day-\(day)", sourceLocation: sourceLocation)
    await client.shutdown()
}

/// The process's resident set size (VmRSS).
private func residentBytes() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.split(whereSeparator: \.isWhitespace)[1]) else {
        throw CocoaError(.fileReadCorruptFile)
    }
    return kib << 10
}

private func waitForSentEntries(_ server: FaultServer, count: Int) async throws -> [FaultServer.LogEntry] {
    let clock = ContinuousClock()
    let end = clock.now + .seconds(5)
    while clock.now < end {
        let sent = server.log("sent")
        if sent.count >= count { return sent }
        try await Task.sleep(for: .milliseconds(20))
    }
    return server.log("sent")
}
