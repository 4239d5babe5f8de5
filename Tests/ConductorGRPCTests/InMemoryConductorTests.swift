@testable import ConductorGRPC
import Testing

/// What only the in-memory conductor has: its test controls, its configuration and its hash.
@Suite struct InMemoryConductorTests {
    @Test func sha256MatchesTheFIPSExamples() {
        #expect(SHA256.hex(of: Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))
            == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(SHA256.hex(of: repeatElement(UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256IsTheSameWhateverTheChunking() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for chunk in [1, 3, 63, 64, 65, 999] {
            var hash = SHA256()
            var index = 0
            while index < bytes.count {
                hash.update(bytes[index..<min(bytes.count, index + chunk)])
                index += chunk
            }
            #expect(hash.hexDigest() == SHA256.hex(of: bytes))
        }
    }

    @Test func configuredDaysReplaceTheReferenceDays() async throws {
        let proof = InMemoryConductor.makeDayProof(3, proof: "custom", canonical: false)
        let conductor = InMemoryConductor(dayProofs: [3: proof])
        #expect(try await conductor.dayProof(3) == proof)
        #expect(proof.proofHash == SHA256.hex(of: Array("custom".utf8)))
        #expect(proof.source == "in-memory-conductor")
        let error = await conductorError { () async throws(ConductorError) in try await conductor.dayProof(7) }
        #expect(error?.code == .notFound)
        #expect(error?.message == "no proof for day 7")
        #expect(error?.endpoint == "in-memory")
        #expect(error?.description == "GetDayProof to in-memory failed: NOT_FOUND: no proof for day 7 (1 attempt)")
    }

    @Test func aClosureCanComputeTheDays() async throws {
        let conductor = InMemoryConductor { day in
            day.isMultiple(of: 2) ? InMemoryConductor.makeDayProof(day, proof: "even-\(day)") : nil
        }
        #expect(try await conductor.dayProof(4).proof == "even-4")
        #expect(await conductorError { () async throws(ConductorError) in try await conductor.dayProof(5) }?.code == .notFound)
    }

    @Test func injectedFailuresHitTheNextCallsOfThatMethodOnly() async throws {
        let conductor = InMemoryConductor()
        conductor.failNext(.getDayProof, times: 2, code: .unavailable)
        conductor.failNext(.getDayProof, code: .deadlineExceeded, message: "slow")
        let event = ConductorEvent(eventType: "t", epoch: 1)
        #expect(try await conductor.submit(event).epoch == 1)
        let first = await conductorError { () async throws(ConductorError) in try await conductor.dayProof(1) }
        #expect(first?.code == .unavailable)
        #expect(first?.kind == .rpcFailed)
        #expect(first?.isRetryable == true)
        #expect(first?.message == "injected UNAVAILABLE")
        #expect(await conductorError { () async throws(ConductorError) in try await conductor.dayProof(1) }?.code == .unavailable)
        let third = await conductorError { () async throws(ConductorError) in try await conductor.dayProof(1) }
        #expect(third?.kind == .deadlineExceeded)
        #expect(third?.message == "slow")
        #expect(try await conductor.dayProof(1).canonical)
        #expect(conductor.callCount(.getDayProof) == 4)
        #expect(conductor.callCount(.submitEvent) == 1)
    }

    @Test func aFailedSubmitAppliesNothingAndTheViewKeepsTheOrder() async throws {
        let conductor = InMemoryConductor()
        let custom = ConductorError(kind: .rpcFailed, code: .permissionDenied, message: "no")
        conductor.failNext(.submitEvent, with: custom)
        let one = ConductorEvent(eventType: "one", epoch: 1)
        let two = ConductorEvent(eventType: "two", epoch: 2)
        #expect(await conductorError { () async throws(ConductorError) in try await conductor.submit(one) }?.code == .permissionDenied)
        #expect(conductor.appliedEvents.isEmpty)
        let receipt = try await conductor.submit(one)
        let batch = try await conductor.submit(batch: [two, one])
        #expect(conductor.appliedEvents.map(\.event) == [one, two, one])
        #expect(conductor.appliedEvents.map(\.receipt) == [receipt] + batch)
        #expect(conductor.appliedEvents.map(\.method) == [.submitEvent, .submitEventsBatch, .submitEventsBatch])
    }

    @Test func cachedProofsNeedNoCall() async throws {
        let conductor = InMemoryConductor()
        _ = try await conductor.dayProof(3)
        conductor.failNext(.getDayProof, code: .unavailable)
        #expect(try await conductor.dayProof(3).proof == "proof-of-day-3", "answered from the cache")
        #expect(conductor.callCount(.getDayProof) == 1)
        let reload = await conductorError { () async throws(ConductorError) in
            try await conductor.dayProof(3, options: ConductorCallOptions(cachePolicy: .reload))
        }
        #expect(reload?.code == .unavailable, "reload reaches the conductor")
        #expect(conductor.callCount(.getDayProof) == 2)
    }

    @Test func healthStatusIsSettable() async throws {
        let conductor = InMemoryConductor(healthStatus: .notServing)
        #expect(try await conductor.health() == .notServing)
        conductor.healthStatus = .serving
        #expect(try await conductor.health() == .serving)
    }

    @Test func aCancelledTaskGetsACancelledError() async {
        let conductor = InMemoryConductor()
        let task = Task { () async -> ConductorError? in
            withUnsafeCurrentTask { $0?.cancel() }
            return await conductorError { () async throws(ConductorError) in try await conductor.dayProof(1) }
        }
        #expect(await task.value?.kind == .cancelled)
    }

    @Test func theConfigurationSelectsTheService() throws {
        let memory = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_MODE": "memory"]).makeService()
        #expect(memory is InMemoryConductor)
        let remote = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://127.0.0.1:1"]).makeService()
        #expect(remote is ConductorClient)
        var invalid = ConductorConfiguration()
        invalid.mode = .memory
        invalid.maxRetries = 42
        #expect(throws: ConductorError.self) { try invalid.makeService() }
        let missing = ConductorConfiguration()
        #expect { try missing.makeService() } throws: { error in
            (error as? ConductorError)?.kind == .invalidConfiguration
        }
    }
}
