import ConductorGRPC

/// The effective configuration, one entry per `CONDUCTOR_*` variable of ``ConductorSetting/all``
/// (defaults included), as `--dry-run` prints it and the JSON report's `configuration` object holds
/// it. Durations are in seconds, as the variables take them; unset paths and names are empty.
enum ConfigurationSummary {
    static func entries(_ configuration: ConductorConfiguration) -> [(name: String, value: ConductorSettingValue)] {
        ConductorSetting.all.map { ($0.variable, $0.value(configuration)) }
    }

    /// `NAME=value` lines; a value read from a `BRIDGE_CONDUCTOR_*` alias or set by a preset says so
    /// (`CONDUCTOR_TIMEOUT=60  # preset high-throughput`).
    static func text(_ configuration: ConductorConfiguration, sources: [String: ConductorSettingSource]) -> String {
        entries(configuration).map { entry in
            let line = "\(entry.name)=\(entry.value.display)"
            switch sources[entry.name] {
            case .variable(let name) where name != entry.name: return "\(line)  # \(name)"
            case .preset(let preset): return "\(line)  # preset \(preset.rawValue)"
            default: return line
            }
        }.joined(separator: "\n")
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
