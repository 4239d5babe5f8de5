/// One sample line of the Prometheus text exposition, e.g.
/// `bridge_conductor_connection_pool_size{pool_type="grpc"} 2`.
struct PrometheusSample: Sendable, Equatable {
    var name: String
    var labels: [String: String]
    var value: Double

    /// Every sample in `text`; comment lines and lines that do not parse are skipped.
    static func parse(_ text: String) -> [PrometheusSample] {
        text.split(separator: "\n").compactMap { parseLine(Substring($0)) }
    }

    private static func parseLine(_ line: Substring) -> PrometheusSample? {
        guard !line.hasPrefix("#"), !line.isEmpty else { return nil }
        var labels: [String: String] = [:]
        var rest: Substring
        let name: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            rest = line[line.index(after: brace)...]
            while !rest.hasPrefix("}") {
                guard let equals = rest.firstIndex(of: "=") else { return nil }
                let key = rest[..<equals].trimmingPrefix(",")
                rest = rest[rest.index(after: equals)...]
                guard rest.hasPrefix("\"") else { return nil }
                rest = rest.dropFirst()
                var value = ""
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character == "n" ? "\n" : character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
                labels[String(key)] = value
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
                if rest.isEmpty { return nil }
            }
            rest = rest.dropFirst()
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) else { return nil }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }
}
