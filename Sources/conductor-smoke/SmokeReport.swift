import ConductorGRPC

/// Everything one smoke run found, and the exit code it implies.
struct SmokeReport {
    /// How the run ended; also the JSON report's `outcome`.
    enum Outcome: String {
        /// Every check passed (exit code 0).
        case passed
        /// A check failed (exit code 1).
        case failed
        /// The conductor could not be reached (exit code 3).
        case unreachable

        var exitCode: Int32 {
            switch self {
            case .passed: SmokeExit.passed
            case .failed: SmokeExit.checkFailed
            case .unreachable: SmokeExit.unreachable
            }
        }
    }

    /// One endpoint's circuit breaker: `closed`, `open` or `half-open`.
    struct Breaker {
        var endpoint: String
        var state: String
    }

    var configuration: ConductorConfiguration
    var checks: [CheckResult]
    var load: LoadPhase.Summary?
    var unreachable: Bool
    var breakers: [Breaker]
    /// The client's connections, from `bridge_conductor_connection_pool_size`; nil when not reported.
    var poolSize: Int?

    var outcome: Outcome {
        if unreachable { return .unreachable }
        return checks.allSatisfy(\.status.isSuccess) ? .passed : .failed
    }

    /// Errors of every check and of the load phase, by gRPC code name.
    var errorsByCode: [String: Int] {
        var errors = load?.errorsByCode ?? [:]
        for check in checks where check.id != "load" && check.status == .failed {
            if let code = check.code, code != .ok { errors[code.name, default: 0] += 1 }
        }
        return errors
    }

    /// Where the run went: the endpoints, or `in-memory`.
    var targetDescription: String {
        configuration.mode == .memory ? "in-memory conductor (CONDUCTOR_MODE=memory)"
            : configuration.endpoints.map(\.reportName).joined(separator: ", ")
    }

    /// The load phase as a check (it fails when any call failed).
    static func loadCheck(_ summary: LoadPhase.Summary) -> CheckResult {
        let detail = "\(summary.calls) calls, \(summary.errors) errors"
        return CheckResult(id: "load", name: "GetDayProof load (\(summary.concurrency) in flight)",
                           status: summary.errors == 0 && summary.calls > 0 ? .passed : .failed, detail: detail, code: nil,
                           milliseconds: summary.seconds * 1000)
    }

    /// Seconds as milliseconds with 3 decimals, e.g. `0.412`.
    static func milliseconds(_ seconds: Double) -> String {
        decimals(seconds * 1000, 3)
    }

    /// `value` with at most `places` decimals.
    static func decimals(_ value: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
