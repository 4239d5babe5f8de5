import ConductorGRPC

/// The checks, in order: connection + HealthCheck, GetDayProof, SubmitEvent, SubmitEventsBatch.
/// When the first call cannot reach the conductor the others are skipped.
struct SmokeChecks {
    let service: any ConductorService
    let day: Int32
    let allowMissing: Bool
    let batchSize: Int

    /// The results, and whether the conductor was unreachable.
    func run() async -> (results: [CheckResult], unreachable: Bool) {
        var results: [CheckResult] = []
        let (health, healthError) = await measure("health", "HealthCheck") { () async throws(ConductorError) -> (String, Bool) in
            let status = try await service.health()
            return ("status \(status)", status == .serving)
        }
        results.append(health)
        if let healthError, Self.meansUnreachable(healthError) {
            for (id, name) in [("day_proof", "GetDayProof(\(day))"), ("submit_event", "SubmitEvent"),
                               ("submit_batch", "SubmitEventsBatch(\(batchSize))")] {
                results.append(CheckResult(id: id, name: name, status: .skipped, detail: "the conductor could not be reached",
                                           code: nil, milliseconds: 0))
            }
            return (results, true)
        }

        var proof = await measure("day_proof", "GetDayProof(\(day))") { () async throws(ConductorError) -> (String, Bool) in
            let proof = try await service.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload))
            let valid = proof.dayNumber == day && !proof.proofHash.isEmpty
            return ("proof_hash \(proof.proofHash), canonical \(proof.canonical), source \(proof.source)", valid)
        }.result
        if proof.code == .notFound && allowMissing {
            proof.status = .notFound
            proof.detail = "no proof for day \(day) (NOT_FOUND, allowed by --allow-missing)"
        }
        results.append(proof)

        let event = ConductorEvent(eventType: "smoke.check", epoch: 1, payload: Array("conductor-smoke".utf8),
                                   metadata: ["source": "conductor-smoke"])
        results.append(await measure("submit_event", "SubmitEvent") { () async throws(ConductorError) -> (String, Bool) in
            let receipt = try await service.submit(event)
            return ("event_hash \(receipt.eventHash)", receipt.eventHash.count == 64 && receipt.epoch == event.epoch)
        }.result)

        let batch = (0..<batchSize).map { index in
            ConductorEvent(eventType: "smoke.batch", epoch: 1, payload: Array("event \(index)".utf8),
                           metadata: ["source": "conductor-smoke"])
        }
        results.append(await measure("submit_batch", "SubmitEventsBatch(\(batchSize))") { () async throws(ConductorError) -> (String, Bool) in
            let receipts = try await service.submit(batch: batch)
            let distinct = Set(receipts.map(\.eventHash)).count
            return ("\(receipts.count) receipts, \(distinct) distinct hashes", receipts.count == batchSize && distinct == batchSize)
        }.result)
        return (results, false)
    }

    /// A failure that means nothing answered: no connection, or a breaker already open.
    static func meansUnreachable(_ error: ConductorError) -> Bool {
        error.kind == .connectionFailed || error.kind == .circuitOpen
    }

    /// Runs one call; `body` returns the detail and whether the answer is as expected.
    private func measure(
        _ id: String,
        _ name: String,
        _ body: () async throws(ConductorError) -> (String, Bool)
    ) async -> (result: CheckResult, error: ConductorError?) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let (detail, valid) = try await body()
            let result = CheckResult(id: id, name: name, status: valid ? .passed : .failed,
                                     detail: valid ? detail : "unexpected answer: \(detail)", code: .ok,
                                     milliseconds: Self.milliseconds(clock.now - start))
            return (result, nil)
        } catch {
            let result = CheckResult(id: id, name: name, status: .failed, detail: error.description, code: error.code,
                                     milliseconds: Self.milliseconds(clock.now - start))
            return (result, error)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
