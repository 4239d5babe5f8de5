import Synchronization

/// Keeps `concurrency` calls in flight until the duration is up (or the call quota is spent) and
/// records every successful call's latency.
///
/// This file is shared with the grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`) through a symlink.
struct LoadDriver: Sendable {
    /// One call. It runs on the worker's executor (`nonisolated(nonsending)`), so calling it costs
    /// no executor hop: for sub-microsecond calls such as cached lookups, a hop would dominate.
    typealias Call = nonisolated(nonsending) @Sendable () async throws -> Void

    let concurrency: Int
    let duration: Duration
    /// A total call quota, split across the workers; `nil` runs for `duration`.
    let calls: Int?
    /// Calls made between two clock readings (see ``Scenario/callsPerSample``).
    let callsPerSample: Int

    /// What a run measured.
    struct Outcome: Sendable {
        var histogram = LatencyHistogram()
        var tally = Tally()
        var seconds = 0.0
        var calls: Int { tally.calls }
        var errors: Int { tally.errors }
        var distinctErrors: [String] { tally.distinctErrors }
    }

    /// What the workers count.
    struct Tally: Sendable {
        var calls = 0
        var errors = 0
        /// The first few distinct errors, in the order they happened.
        var distinctErrors: [String] = []

        mutating func noteError(_ description: String) {
            errors += 1
            if distinctErrors.count < 3, !distinctErrors.contains(description) { distinctErrors.append(description) }
        }
    }

    init(options: BenchOptions) {
        concurrency = options.concurrency
        duration = options.duration
        calls = options.calls
        callsPerSample = options.scenario.callsPerSample
    }

    /// Runs `call` from `concurrency` tasks; a call that throws counts as an error.
    func run(_ call: @escaping Call) async -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        let histograms = SharedHistograms(count: min(concurrency, SharedHistograms.maximumCount))
        let tally = await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<concurrency {
                let quota = calls.map { $0 / concurrency + (worker < $0 % concurrency ? 1 : 0) }
                let histogram = histograms.histogram(for: worker)
                group.addTask { await work(call, clock: clock, end: end, quota: quota, histogram: histogram) }
            }
            var total = Tally()
            for await part in group {
                total.calls += part.calls
                total.errors += part.errors
                for description in part.distinctErrors where total.distinctErrors.count < 3
                    && !total.distinctErrors.contains(description) {
                    total.distinctErrors.append(description)
                }
            }
            return total
        }
        return Outcome(histogram: histograms.merged(), tally: tally, seconds: (clock.now - start).seconds)
    }

    private func work(_ call: Call, clock: ContinuousClock, end: ContinuousClock.Instant, quota: Int?,
                      histogram: SharedHistograms.Shard) async -> Tally {
        var outcome = Tally()
        var now = clock.now
        while quota.map({ outcome.calls < $0 }) ?? (now < end) {
            let began = now
            let sample = quota.map { min(callsPerSample, $0 - outcome.calls) } ?? callsPerSample
            var succeeded = 0
            for _ in 0..<sample {
                do {
                    try await call()
                    succeeded += 1
                } catch {
                    outcome.noteError(String(describing: error))
                }
            }
            now = clock.now
            outcome.calls += sample
            // Latencies are those of successful calls: a call that fails at once would flatter p50.
            if succeeded > 0 {
                let nanoseconds = (now - began).nanoseconds / UInt64(sample)
                histogram.value.withLock { $0.record(nanoseconds: nanoseconds, count: UInt64(succeeded)) }
            }
        }
        return outcome
    }
}

/// The histograms the workers record into. One is 18 KB: one per worker was 180 MB of the
/// driver's own at 10,000 calls in flight, which buried the client's memory. Workers share at most
/// `maximumCount` (one each up to that many: uncontended), each behind a mutex taken once per
/// sample of calls.
private struct SharedHistograms: Sendable {
    final class Shard: Sendable {
        let value = Mutex(LatencyHistogram())
    }

    static let maximumCount = 64
    private let shards: [Shard]

    init(count: Int) {
        shards = (0..<max(count, 1)).map { _ in Shard() }
    }

    func histogram(for worker: Int) -> Shard {
        shards[worker % shards.count]
    }

    func merged() -> LatencyHistogram {
        var total = LatencyHistogram()
        for shard in shards {
            shard.value.withLock { total.merge($0) }
        }
        return total
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
