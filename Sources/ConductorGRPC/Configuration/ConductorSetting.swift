/// One configuration setting: its environment variable, its ``ConductorConfiguration`` property,
/// default, allowed range and meaning, stated once. The environment reader, the `ConfigReader`
/// reader (`ConductorConfiguration(config:)` in `ConductorGRPCConfigReader`), ``ConductorConfiguration/validate()``,
/// `conductor-smoke --help` and `--dry-run` are all made from ``all``, and a test holds the
/// README's configuration table to it.
public struct ConductorSetting: Sendable {
    /// The environment variable, e.g. `CONDUCTOR_TIMEOUT`.
    public let variable: String
    /// The ``ConductorConfiguration`` property, e.g. `timeout`.
    public let property: String
    /// The default as people read it, e.g. `30 s`.
    public let defaultText: String
    /// What the variable accepts, e.g. `1–300` (seconds for durations).
    public let rangeText: String
    /// One line on what the setting does.
    public let meaning: String
    /// When the Swift property accepts more than the variable: the range it accepts and why.
    public let widerInSwift: String?

    /// Applies the variable's text to a configuration; returns the problem, if any.
    let read: @Sendable (String, inout ConductorConfiguration) -> String?
    /// Checks the property of a configuration made in Swift; returns the problem, if any.
    let check: @Sendable (ConductorConfiguration) -> String?
    /// The property's value, as `--dry-run` prints it.
    public let value: @Sendable (ConductorConfiguration) -> ConductorSettingValue
}

/// The value of a setting, typed for reports (a JSON report keeps numbers numbers).
public enum ConductorSettingValue: Sendable, Hashable {
    /// Text; empty when unset.
    case text(String)
    /// A whole number.
    case integer(Int)
    /// A number; durations in seconds, as the variables take them.
    case number(Double)
    /// A boolean.
    case flag(Bool)
    /// A list, such as the endpoints.
    case list([String])

    /// The value as `--dry-run` prints it: `30`, `0.25`, `true`, `a,b`.
    public var display: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .number(let value): ConductorSetting.format(value)
        case .flag(let value): value ? "true" : "false"
        case .list(let values): values.joined(separator: ",")
        }
    }
}

extension ConductorSetting {
    /// Reads a whole number in `range`.
    static func integer(
        _ variable: String, _ property: String, _ range: ClosedRange<Int>, wider: (range: ClosedRange<Int>, why: String)? = nil,
        _ meaning: String, _ keyPath: any WritableKeyPath<ConductorConfiguration, Int> & Sendable
    ) -> ConductorSetting {
        let swiftRange = wider?.range ?? range
        return ConductorSetting(
            variable: variable, property: property, defaultText: String(ConductorConfiguration()[keyPath: keyPath]),
            rangeText: "\(range.lowerBound)–\(range.upperBound)", meaning: meaning,
            widerInSwift: wider.map { "\($0.range.lowerBound)...\($0.range.upperBound): \($0.why)" },
            read: { text, configuration in
                guard let value = Int(text), range.contains(value) else {
                    return "\(variable)=\(text) is out of range \(range.lowerBound)...\(range.upperBound) (an integer)"
                }
                configuration[keyPath: keyPath] = value
                return nil
            },
            check: { configuration in
                let value = configuration[keyPath: keyPath]
                return swiftRange.contains(value) ? nil
                    : "\(property)=\(value) is out of range \(swiftRange.lowerBound)...\(swiftRange.upperBound)"
            },
            value: { .integer($0[keyPath: keyPath]) })
    }

    /// Reads a number in `range`.
    static func number(
        _ variable: String, _ property: String, _ range: ClosedRange<Double>, _ meaning: String,
        _ keyPath: any WritableKeyPath<ConductorConfiguration, Double> & Sendable
    ) -> ConductorSetting {
        ConductorSetting(
            variable: variable, property: property, defaultText: format(ConductorConfiguration()[keyPath: keyPath]),
            rangeText: "\(format(range.lowerBound))–\(format(range.upperBound))", meaning: meaning, widerInSwift: nil,
            read: { text, configuration in
                guard let value = Double(text), value.isFinite, range.contains(value) else {
                    return "\(variable)=\(text) is out of range \(format(range.lowerBound))...\(format(range.upperBound)) (a number)"
                }
                configuration[keyPath: keyPath] = value
                return nil
            },
            check: { configuration in
                let value = configuration[keyPath: keyPath]
                return range.contains(value) ? nil
                    : "\(property)=\(value) is out of range \(format(range.lowerBound))...\(format(range.upperBound))"
            },
            value: { .number($0[keyPath: keyPath]) })
    }

    /// Reads seconds in `range`.
    static func seconds(
        _ variable: String, _ property: String, _ range: ClosedRange<Double>, wider: (lowest: Duration, why: String)? = nil,
        _ meaning: String, _ keyPath: any WritableKeyPath<ConductorConfiguration, Duration> & Sendable
    ) -> ConductorSetting {
        duration(variable, property, range, zeroDisables: false, wider: wider, meaning,
                 get: { $0[keyPath: keyPath] }, set: { configuration, value in if let value { configuration[keyPath: keyPath] = value } })
    }

    /// Reads seconds in `range`, or 0 for off (nil).
    static func optionalSeconds(
        _ variable: String, _ property: String, _ range: ClosedRange<Double>, wider: (lowest: Duration, why: String)? = nil,
        _ meaning: String, _ keyPath: any WritableKeyPath<ConductorConfiguration, Duration?> & Sendable
    ) -> ConductorSetting {
        duration(variable, property, range, zeroDisables: true, wider: wider, meaning,
                 get: { $0[keyPath: keyPath] }, set: { $0[keyPath: keyPath] = $1 })
    }

    private static func duration(
        _ variable: String, _ property: String, _ range: ClosedRange<Double>, zeroDisables: Bool,
        wider: (lowest: Duration, why: String)?, _ meaning: String,
        get: @escaping @Sendable (ConductorConfiguration) -> Duration?,
        set: @escaping @Sendable (inout ConductorConfiguration, Duration?) -> Void
    ) -> ConductorSetting {
        let lowest = wider?.lowest ?? duration(seconds: range.lowerBound)
        let highest = Duration.seconds(range.upperBound)
        let allowed = "\(format(range.lowerBound))...\(format(range.upperBound)) seconds" + (zeroDisables ? " (or 0 to disable)" : "")
        return ConductorSetting(
            variable: variable, property: property,
            defaultText: get(ConductorConfiguration()).map { "\(format(seconds($0))) s" } ?? "0 (off)",
            rangeText: (zeroDisables ? "0 or " : "") + "\(format(range.lowerBound))–\(format(range.upperBound))", meaning: meaning,
            widerInSwift: wider.map { "from \(format(seconds($0.lowest))) s: \($0.why)" },
            read: { text, configuration in
                guard let value = Double(text), value.isFinite, range.contains(value) || (zeroDisables && value == 0) else {
                    return "\(variable)=\(text) is out of range \(allowed)"
                }
                set(&configuration, value == 0 ? nil : duration(seconds: value))
                return nil
            },
            check: { configuration in
                guard let value = get(configuration) else { return nil }
                return (lowest...highest).contains(value) ? nil
                    : "\(property)=\(format(seconds(value))) s is out of range \(format(seconds(lowest)))...\(format(range.upperBound)) seconds"
            },
            value: { .number(get($0).map(seconds) ?? 0) })
    }

    /// `value` seconds to the microsecond (whole milliseconds turned 0.0004 s into 0 and 0.0005 s into 1 ms).
    private static func duration(seconds value: Double) -> Duration {
        .microseconds(Int64((value * 1_000_000).rounded()))
    }

    /// Reads a boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`).
    static func flag(
        _ variable: String, _ property: String, _ meaning: String,
        _ keyPath: any WritableKeyPath<ConductorConfiguration, Bool> & Sendable
    ) -> ConductorSetting {
        ConductorSetting(
            variable: variable, property: property, defaultText: ConductorConfiguration()[keyPath: keyPath] ? "true" : "false",
            rangeText: "bool", meaning: meaning, widerInSwift: nil,
            read: { text, configuration in
                switch text.lowercased() {
                case "1", "true", "yes", "on": configuration[keyPath: keyPath] = true
                case "0", "false", "no", "off": configuration[keyPath: keyPath] = false
                default: return "\(variable)=\(text) is not a boolean (true or false)"
                }
                return nil
            },
            check: { _ in nil },
            value: { .flag($0[keyPath: keyPath]) })
    }

    /// Reads free text (a file path, a name); unset means nil.
    static func text(
        _ variable: String, _ property: String, default defaultText: String, _ rangeText: String, _ meaning: String,
        _ keyPath: any WritableKeyPath<ConductorConfiguration, String?> & Sendable
    ) -> ConductorSetting {
        ConductorSetting(
            variable: variable, property: property, defaultText: defaultText, rangeText: rangeText, meaning: meaning,
            widerInSwift: nil,
            read: { text, configuration in
                configuration[keyPath: keyPath] = text
                return nil
            },
            check: { _ in nil },
            value: { .text($0[keyPath: keyPath] ?? "") })
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    package static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        let micros = (abs(value) * 1_000_000).rounded()
        guard abs(value) < 0.001, abs(micros - abs(value) * 1_000_000) < 1e-6 else { return String(value) }
        // Below a millisecond Swift writes an exponent ("1e-05"); a setting reads better as 0.00001.
        let digits = String(Int(micros))
        var fraction = String(repeating: "0", count: 6 - digits.count) + digits
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (value < 0 ? "-0." : "0.") + fraction
    }
}
