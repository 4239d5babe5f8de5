extension SmokeReport {
    /// The readable report: the target, one line per check with status and latency, the load
    /// phase's numbers, errors by code, breaker and pool state, and the verdict.
    var text: String {
        var lines = ["conductor-smoke: \(targetDescription)"]
        let width = checks.map(\.name.count).max() ?? 0
        for check in checks {
            let mark = switch check.status {
            case .passed: "ok  "
            case .failed: "FAIL"
            case .notFound: "miss"
            case .skipped: "skip"
            }
            let name = check.name + String(repeating: " ", count: width - check.name.count)
            let time = Self.decimals(check.milliseconds, 2) + " ms"
            lines.append("\(mark)  \(name)  \(String(repeating: " ", count: max(0, 10 - time.count)))\(time)  \(check.detail)")
        }
        if let load {
            lines.append("load: \(load.calls) calls in \(Self.decimals(load.seconds, 2)) s = "
                + "\(Int(load.callsPerSecond.rounded())) calls/s, p50 \(Self.milliseconds(load.p50)) ms, "
                + "p95 \(Self.milliseconds(load.p95)) ms, p99 \(Self.milliseconds(load.p99)) ms")
        }
        let errors = errorsByCode
        lines.append("errors by code: " + (errors.isEmpty ? "none"
            : errors.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")))
        lines.append("circuit breaker: " + (breakers.isEmpty ? "none (in-memory conductor)"
            : breakers.map { "\($0.endpoint) \($0.state)" }.joined(separator: ", ")))
        lines.append("connection pool: " + (poolSize.map { "\($0) connection\($0 == 1 ? "" : "s")" } ?? "not reported"))
        switch outcome {
        case .passed:
            lines.append("all checks passed")
        case .failed:
            let failed = checks.filter { $0.status == .failed }.map(\.name)
            lines.append("FAILED: \(failed.joined(separator: ", "))")
        case .unreachable:
            lines.append("UNREACHABLE: the conductor could not be reached")
        }
        return lines.joined(separator: "\n")
    }
}
