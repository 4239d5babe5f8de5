/// One value of the smoke report that is shown both to people and in `--json`.
enum SettingValue {
    case text(String)
    case integer(Int)
    case number(Double)
    case flag(Bool)
    case list([String])

    /// The value as printed in the readable report and by `--dry-run`.
    var display: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .flag(let value): value ? "true" : "false"
        case .list(let values): values.joined(separator: ",")
        }
    }

    /// The value for JSONSerialization.
    var json: Any {
        switch self {
        case .text(let text): text
        case .integer(let value): value
        case .number(let value): value
        case .flag(let value): value
        case .list(let values): values
        }
    }
}
