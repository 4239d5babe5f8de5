import ConductorGRPC

extension ConductorSettingValue {
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
