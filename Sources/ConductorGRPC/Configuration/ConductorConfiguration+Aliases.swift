#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the effective value of a setting came from (what `conductor-smoke --dry-run` shows).
public enum ConductorSettingSource: Sendable, Hashable, CustomStringConvertible {
    /// The default.
    case `default`
    /// An environment variable: the setting's own `CONDUCTOR_*` name or the Python bridge's
    /// `BRIDGE_CONDUCTOR_*` alias.
    case variable(String)
    /// `CONDUCTOR_PRESET`.
    case preset(ConductorConfiguration.Preset)

    /// `default`, the variable's name, or `preset high-throughput`.
    public var description: String {
        switch self {
        case .default: "default"
        case .variable(let name): name
        case .preset(let preset): "preset \(preset.rawValue)"
        }
    }
}

extension ConductorConfiguration {
    /// The prefix of the Python bridge's names for the same variables (`BRIDGE_CONDUCTOR_TIMEOUT`
    /// is `CONDUCTOR_TIMEOUT`), accepted so that a deployment moves over without renaming.
    public static let bridgeAliasPrefix = "BRIDGE_"

    /// The `CONDUCTOR_*` and `BRIDGE_CONDUCTOR_*` variables of this process.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if text.hasPrefix("CONDUCTOR_") || text.hasPrefix(bridgeAliasPrefix + "CONDUCTOR_"),
               let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }

    /// Each `CONDUCTOR_*` variable's value and the name it was read under: its own name wins over
    /// the `BRIDGE_` alias; blank values count as unset.
    static func resolveAliases(_ environment: [String: String]) -> [String: (value: String, name: String)] {
        var resolved: [String: (value: String, name: String)] = [:]
        for variable in ConductorSetting.all.map(\.variable) {
            for name in [variable, bridgeAliasPrefix + variable] {
                guard let value = environment[name]?.trimmingWhitespace(), !value.isEmpty else { continue }
                resolved[variable] = (value, name)
                break
            }
        }
        return resolved
    }

    /// Where each setting's value comes from in `environment` (nil: this process's), keyed by the
    /// `CONDUCTOR_*` name.
    public static func settingSources(_ environment: [String: String]? = nil) -> [String: ConductorSettingSource] {
        let resolved = resolveAliases(environment ?? processEnvironment())
        let preset = resolved["CONDUCTOR_PRESET"].flatMap { Preset(rawValue: $0.value.lowercased()) }
        var sources: [String: ConductorSettingSource] = [:]
        for variable in ConductorSetting.all.map(\.variable) {
            if let name = resolved[variable]?.name {
                sources[variable] = .variable(name)
            } else if let preset, Preset.variables.contains(variable) {
                sources[variable] = .preset(preset)
            } else {
                sources[variable] = .default
            }
        }
        return sources
    }
}
