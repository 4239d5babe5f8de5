import ConductorGRPC
import Foundation

extension SmokeReport {
    /// The `--json` report's version; it changes only when a key changes meaning or disappears.
    static let jsonVersion = 1

    /// The report as one JSON object (keys documented in docs/observability.md and `--help`).
    func jsonObject(metrics: String?) -> [String: Any] {
        var object: [String: Any] = [
            "version": Self.jsonVersion,
            "outcome": outcome.rawValue,
            "exit_code": Int(outcome.exitCode),
            "mode": configuration.mode.rawValue,
            "target": configuration.mode == .memory ? "in-memory" : configuration.endpoints.map(\.reportName).joined(separator: ","),
            "configuration": Self.configurationObject(configuration),
            "checks": checks.map { check -> [String: Any] in
                [
                    "id": check.id,
                    "name": check.name,
                    "status": check.status.rawValue,
                    "code": check.code?.name ?? NSNull(),
                    "latency_ms": check.milliseconds,
                    "detail": check.detail,
                ]
            },
            "errors_by_code": errorsByCode,
            "circuit_breakers": breakers.map { ["endpoint": $0.endpoint, "state": $0.state] },
            "pool_size": poolSize ?? NSNull(),
            "load": load.map { load -> [String: Any] in
                [
                    "calls": load.calls,
                    "errors": load.errors,
                    "duration_s": load.seconds,
                    "concurrency": load.concurrency,
                    "calls_per_second": load.callsPerSecond,
                    "p50_ms": load.p50 * 1000,
                    "p95_ms": load.p95 * 1000,
                    "p99_ms": load.p99 * 1000,
                    "errors_by_code": load.errorsByCode,
                ]
            } ?? NSNull(),
        ]
        if let metrics { object["metrics"] = metrics }
        return object
    }

    /// `{"CONDUCTOR_MODE": "http", ...}`: the effective value of every variable.
    static func configurationObject(_ configuration: ConductorConfiguration) -> [String: Any] {
        var object: [String: Any] = [:]
        for entry in ConfigurationSummary.entries(configuration) { object[entry.name] = entry.value.json }
        return object
    }

    /// `object` as one line of JSON with sorted keys.
    static func serialize(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"outcome":"failed","error":"the report could not be serialised"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }
}
