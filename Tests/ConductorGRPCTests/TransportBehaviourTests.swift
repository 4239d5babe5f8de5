import ConductorGRPC
import Foundation
import Testing

/// Deadlines, cancellation, large messages, concurrency and dead servers, against real sockets.
/// Retries are off here (one attempt per call) so each test sees the transport's own behaviour.
@Suite(.serialized) struct TransportBehaviourTests {
    private func makeClient(_ url: String, timeout: Duration = .seconds(10),
                            configure: (inout ConductorConfiguration) -> Void = { _ in }) throws -> ConductorClient {
        try ConductorGRPCTests.makeClient(url, timeout: timeout) { configuration in
            configuration.maxRetries = 0
            configure(&configuration)
        }
    }

    @Test func deadlineFiresLocallyAndTheServerSeesTheCancellation() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=60"])
        let client = try makeClient(server.url)
        // Connected first: on a loaded machine the handshake alone can outlast 300 ms, and then the
        // call would end, correctly, before its request ever left.
        _ = try await client.health()
        let clock = ContinuousClock()
        let start = clock.now
        let error = await conductorError { () async throws(ConductorError) in
            try await client.dayProof(1, options: ConductorCallOptions(timeout: .milliseconds(300)))
        }
        let elapsed = clock.now - start
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.kind == .deadlineExceeded)
        #expect(elapsed >= .milliseconds(300))
        // Not a latency bound (a loaded machine may delay the resumption by seconds): the call must
        // not wait for the server's 60 s answer. The deadline's precision is tested in process, on a
        // manual clock.
        #expect(elapsed < .seconds(30), "the local deadline ended the call, took \(elapsed)")
        let seen = await server.waitForLog { $0.method == "GetDayProof" }
        #expect(seen?.outcome == "cancelled")
        await client.shutdown()
    }

    @Test func taskCancellationResetsTheStream() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=60"])
        let client = try makeClient(server.url)
        _ = try await client.health() // connected first, so the request leaves at once
        let task = Task { () async -> ConductorError? in
            await conductorError { () async throws(ConductorError) in try await client.dayProof(2, options: ConductorCallOptions(cachePolicy: .reload)) }
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await task.value
        #expect(error?.code == .cancelled)
        #expect(error?.kind == .cancelled)
        let seen = await server.waitForLog { $0.method == "GetDayProof" }
        #expect(seen?.outcome == "cancelled", "the server must observe the reset")
        #expect(try await client.health() == .serving, "the connection stays usable")
        await client.shutdown()
    }

    @Test func cancelledBeforeStartingNeverReachesTheServer() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let task = Task { () async -> ConductorError? in
            withUnsafeCurrentTask { $0?.cancel() }
            return await conductorError { () async throws(ConductorError) in try await client.dayProof(2) }
        }
        #expect(await task.value?.code == .cancelled)
        #expect(try await client.dayProof(4).dayNumber == 4)
        #expect(server.log().filter { $0.day == 2 }.isEmpty)
        await client.shutdown()
    }

    @Test func oneMebibytePayloadRoundTrips() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let receipt = try await client.submit(ConductorEvent(eventType: "big", epoch: 9, payload: payload))
        let logged = try #require(server.log().first { $0.method == "SubmitEvent" })
        #expect(logged.payloadBytes == [1 << 20])
        #expect(logged.eventHashes == [receipt.eventHash])
        await client.shutdown()
    }

    @Test func oversizeResponseIsResourceExhaustedAndTheConnectionSurvives() async throws {
        let server = try await ReferenceConductor.start(["--proof-bytes", "5=200000"])
        let client = try makeClient(server.url) { $0.maxReceiveMessageBytes = 64 << 10 }
        let error = await conductorError { () async throws(ConductorError) in try await client.dayProof(5) }
        #expect(error?.code == .resourceExhausted)
        #expect(try await client.dayProof(6).proof == "proof-of-day-6")
        await client.shutdown()
    }

    @Test func twoHundredConcurrentLargeSubmits() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url, timeout: .seconds(60))
        let sizes = (0..<200).map { 20 << 10 + ($0 * 5281) % ((1 << 20) - (20 << 10)) }
        let hashes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, size) in sizes.enumerated() {
                group.addTask {
                    let event = ConductorEvent(eventType: "load", epoch: Int32(index), payload: [UInt8](repeating: UInt8(index & 0xFF), count: size))
                    let receipt = try await client.submit(event)
                    return (index, receipt.eventHash)
                }
            }
            var result = [Int: String]()
            for try await (index, hash) in group { result[index] = hash }
            return result
        }
        #expect(hashes.count == 200)
        let logged = server.log().filter { $0.method == "SubmitEvent" }
        #expect(logged.count == 200)
        #expect(Set(logged.flatMap(\.payloadBytes)) == Set(sizes))
        #expect(Set(logged.flatMap(\.eventHashes)) == Set(hashes.values))
        await client.shutdown()
    }

    @Test func thousandConcurrentCallsEachGetTheirOwnAnswer() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url, timeout: .seconds(60)) { $0.maxConnectionsPerEndpoint = 1 }
        let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
            for day in 1...1000 {
                group.addTask {
                    let proof = try await client.dayProof(Int32(day % 999 + 1))
                    return proof.dayNumber == Int32(day % 999 + 1) && proof.proof == "proof-of-day-\(day % 999 + 1)"
                }
            }
            var bad = 0
            for try await ok in group where !ok { bad += 1 }
            return bad
        }
        #expect(mismatches == 0)
        let peers = Set(server.log().map(\.peer))
        #expect(peers.count == 1, "all calls share one HTTP/2 connection")
        await client.shutdown()
    }

    @Test func killingTheServerFailsOutstandingCallsPromptly() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=30"])
        let client = try makeClient(server.url, timeout: .seconds(60))
        let calls = Task {
            await withTaskGroup(of: ConductorError?.self) { group in
                for day in 1...20 {
                    group.addTask { await conductorError { () async throws(ConductorError) in try await client.dayProof(Int32(day)) } }
                }
                var errors: [ConductorError?] = []
                for await error in group { errors.append(error) }
                return errors
            }
        }
        try await Task.sleep(for: .milliseconds(500)) // the calls reach the server and wait there
        let clock = ContinuousClock()
        let killed = clock.now
        server.kill()
        let errors = await calls.value
        #expect(clock.now - killed < .seconds(5), "promptly, not at the calls' deadline")
        #expect(errors.count == 20)
        #expect(errors.allSatisfy { $0?.code == .unavailable }, "\(errors.compactMap { $0?.description })")
        await client.shutdown()
    }

    @Test func closedPortFailsFastNamingTheAddress() async throws {
        let port = try unusedPort()
        let client = try makeClient("grpc://127.0.0.1:\(port)")
        let clock = ContinuousClock()
        let start = clock.now
        let error = await conductorError { () async throws(ConductorError) in try await client.health() }
        #expect(clock.now - start < .seconds(5), "failed fast, not at the 10 s deadline")
        #expect(error?.code == .unavailable)
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("refused") == true, "\(String(describing: error))")
        await client.shutdown()
    }

    @Test func unresolvableHostFailsWithAClearError() async throws {
        let client = try makeClient("grpc://no-such-host.invalid:50051")
        let error = await conductorError { () async throws(ConductorError) in try await client.health() }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("cannot resolve no-such-host.invalid:50051") == true, "\(String(describing: error))")
        await client.shutdown()
    }

    @Test func shutdownWaitsForCallsInFlightThenRefusesNewOnes() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=0.5"])
        let client = try makeClient(server.url)
        let inFlight = Task { try await client.dayProof(8) }
        try await Task.sleep(for: .milliseconds(150))
        await client.shutdown()
        #expect(try await inFlight.value.dayNumber == 8, "in-flight calls finish")
        let after = await conductorError { () async throws(ConductorError) in try await client.dayProof(9) }
        #expect(after?.kind == .shutDown)
    }
}

/// A loopback TCP port that nothing listens on (bound, then closed).
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Returns once something accepts TCP connections on 127.0.0.1:`port` (a server started as a
/// process is ready only then); gives up after `timeout`.
func waitUntilListening(port: Int, timeout: Duration = .seconds(10)) async throws {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("nothing listened on 127.0.0.1:\(port) within \(timeout)")
}
