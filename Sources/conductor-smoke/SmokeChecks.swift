import ConductorGRPC

/// The checks, in order: HealthCheck, GetDayProof, SubmitEvent, SubmitEventsBatch.
struct SmokeChecks {
    struct Result {
        var name: String
        var passed: Bool
        var detail: String
        var milliseconds: Double
    }

    struct Report {
        var results: [Result]
        var unreachable: Bool
        var passed: Bool { results.allSatisfy(\.passed) }
        var text: String {
            results.map { result in
                let mark = result.passed ? "ok  " : "FAIL"
                let time = String(Int(result.milliseconds * 100) / 100)
                return "\(mark) \(result.name) (\(time) ms): \(result.detail)"
            }.joined(separator: "\n") + "\n" + (passed ? "all checks passed" : "some checks failed")
        }
    }

    let client: ConductorClient
    let day: Int32
    let allowMissing: Bool
    let batchSize: Int

    func run() async -> Report {
        var results: [Result] = []
        var unreachable = false
        let health = await measure("HealthCheck") { () async throws(ConductorError) -> String in
            "status \(try await client.health())"
        }
        results.append(health.result)
        if let error = health.error, error.kind == .connectionFailed {
            unreachable = true
            return Report(results: results, unreachable: unreachable)
        }
        var proof = await measure("GetDayProof(\(day))") { () async throws(ConductorError) -> String in
            let proof = try await client.dayProof(day)
            return "proof_hash \(proof.proofHash), canonical \(proof.canonical)"
        }
        if let error = proof.error, error.code == .notFound, allowMissing {
            proof.result.passed = true
            proof.result.detail = "no proof for day \(day) (NOT_FOUND, allowed)"
        }
        results.append(proof.result)
        let event = ConductorEvent(eventType: "smoke.check", epoch: 1, payload: Array("conductor-smoke".utf8),
                                   metadata: ["source": "conductor-smoke"])
        results.append(await measure("SubmitEvent") { () async throws(ConductorError) -> String in
            "event_hash \(try await client.submit(event).eventHash)"
        }.result)
        let batch = (0..<batchSize).map { index in
            ConductorEvent(eventType: "smoke.batch", epoch: 1, payload: Array("event \(index)".utf8))
        }
        results.append(await measure("SubmitEventsBatch(\(batchSize))") { () async throws(ConductorError) -> String in
            "\(try await client.submit(batch: batch).count) receipts"
        }.result)
        return Report(results: results, unreachable: unreachable)
    }

    private func measure(
        _ name: String,
        _ body: () async throws(ConductorError) -> String
    ) async -> (result: Result, error: ConductorError?) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let detail = try await body()
            return (Result(name: name, passed: true, detail: detail, milliseconds: milliseconds(since: start, clock)), nil)
        } catch {
            return (Result(name: name, passed: false, detail: error.description, milliseconds: milliseconds(since: start, clock)), error)
        }
    }

    private func milliseconds(since start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
