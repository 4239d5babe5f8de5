import ConductorGRPC

/// Calls GetDayProof from `concurrency` tasks for `duration` and summarises the latencies.
struct LoadPhase {
    struct Summary {
        var calls: Int
        var errorsByCode: [String: Int]
        var seconds: Double
        var p50: Duration
        var p95: Duration
        var p99: Duration

        var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }

        var text: String {
            let rate = Int(callsPerSecond.rounded())
            var line = "load: \(calls) calls in \(format(seconds)) s = \(rate) calls/s, "
                + "p50 \(microseconds(p50)) µs, p95 \(microseconds(p95)) µs, p99 \(microseconds(p99)) µs"
            if !errorsByCode.isEmpty {
                line += ", errors: " + errorsByCode.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            }
            return line
        }

        private func microseconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds) * 1_000_000 + Int(duration.components.attoseconds / 1_000_000_000_000)
        }

        private func format(_ value: Double) -> String {
            String(Double(Int(value * 100)) / 100)
        }
    }

    let client: ConductorClient
    let duration: Duration
    let concurrency: Int

    func run() async -> Summary {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        let results = await withTaskGroup(of: ([Duration], [String: Int]).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var latencies: [Duration] = []
                    var errors: [String: Int] = [:]
                    var day = Int32(worker % 999) + 1
                    while clock.now < end {
                        let callStart = clock.now
                        do throws(ConductorError) {
                            _ = try await client.dayProof(day, cachePolicy: .reload)
                            latencies.append(clock.now - callStart)
                        } catch {
                            errors[error.code.name, default: 0] += 1
                        }
                        day = day % 999 + 1
                    }
                    return (latencies, errors)
                }
            }
            var latencies: [Duration] = []
            var errors: [String: Int] = [:]
            for await (workerLatencies, workerErrors) in group {
                latencies += workerLatencies
                errors.merge(workerErrors, uniquingKeysWith: +)
            }
            return (latencies, errors)
        }
        let elapsed = clock.now - start
        let sorted = results.0.sorted()
        func percentile(_ p: Double) -> Duration {
            sorted.isEmpty ? .zero : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        return Summary(
            calls: sorted.count + results.1.values.reduce(0, +), errorsByCode: results.1,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99))
    }
}
