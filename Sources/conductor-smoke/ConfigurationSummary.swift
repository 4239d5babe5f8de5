import ConductorGRPC

/// The effective configuration, one entry per `CONDUCTOR_*` variable of ``ConductorSetting/all``
/// (defaults included), as `--dry-run` prints it and the JSON report's `configuration` object holds
/// it. Durations are in seconds, as the variables take them; unset paths and names are empty.
enum ConfigurationSummary {
    static func entries(_ configuration: ConductorConfiguration) -> [(name: String, value: ConductorSettingValue)] {
        ConductorSetting.all.map { ($0.variable, $0.value(configuration)) }
    }

    /// `NAME=value` lines.
    static func text(_ configuration: ConductorConfiguration) -> String {
        entries(configuration).map { "\($0.name)=\($0.value.display)" }.joined(separator: "\n")
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
