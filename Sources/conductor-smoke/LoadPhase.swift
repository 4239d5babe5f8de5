import ConductorGRPC

/// Calls GetDayProof for `day` (bypassing the client's cache, so every call is an RPC) from
/// `concurrency` tasks for `duration`, and summarises calls/s, latency percentiles and errors.
struct LoadPhase {
    /// What the load phase measured.
    struct Summary: Sendable {
        var calls: Int
        var errorsByCode: [String: Int]
        var seconds: Double
        var concurrency: Int
        /// Latency percentiles in seconds.
        var p50: Double
        var p95: Double
        var p99: Double

        var errors: Int { errorsByCode.values.reduce(0, +) }
        var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }
    }

    let service: any ConductorService
    let day: Int32
    let duration: Duration
    let concurrency: Int
    /// Codes that count as answers rather than errors (NOT_FOUND when `--allow-missing` accepted it).
    let expectedCodes: Set<ConductorError.Code>

    func run() async -> Summary {
        let counters = LoadCounters()
        let progress = Task { await ProgressLine(counters: counters, duration: duration).run() }
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        let (latencies, errors) = await withTaskGroup(of: (LatencyBuckets, [String: Int]).self) { group in
            for _ in 0..<concurrency {
                group.addTask { await worker(until: end, counters: counters) }
            }
            var latencies = LatencyBuckets()
            var errors: [String: Int] = [:]
            for await (workerLatencies, workerErrors) in group {
                latencies.merge(workerLatencies)
                errors.merge(workerErrors, uniquingKeysWith: +)
            }
            return (latencies, errors)
        }
        let elapsed = clock.now - start
        progress.cancel()
        await progress.value
        return Summary(
            calls: latencies.count + errors.values.reduce(0, +), errorsByCode: errors,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            concurrency: concurrency,
            p50: latencies.percentile(0.50), p95: latencies.percentile(0.95), p99: latencies.percentile(0.99))
    }

    private func worker(until end: ContinuousClock.Instant, counters: LoadCounters) async -> (LatencyBuckets, [String: Int]) {
        let clock = ContinuousClock()
        var latencies = LatencyBuckets()
        var errors: [String: Int] = [:]
        var sinceYield = 0
        while clock.now < end && !Task.isCancelled {
            let callStart = clock.now
            do throws(ConductorError) {
                _ = try await service.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload))
                latencies.record(clock.now - callStart)
                counters.add(calls: 1, failed: 0)
            } catch where expectedCodes.contains(error.code) {
                latencies.record(clock.now - callStart)
                counters.add(calls: 1, failed: 0)
            } catch {
                errors[error.code.name, default: 0] += 1
                counters.add(calls: 1, failed: 1)
            }
            sinceYield += 1
            if sinceYield == 64 {
                sinceYield = 0
                // An in-memory conductor never suspends: let the other workers and the progress line run.
                await Task.yield()
            }
        }
        return (latencies, errors)
    }
}
