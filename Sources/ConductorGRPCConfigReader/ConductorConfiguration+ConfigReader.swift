import ConductorGRPC
import Configuration

extension ConductorSetting {
    /// The key that ``ConductorConfiguration/init(config:)`` reads for this setting: the variable
    /// without `CONDUCTOR_`, in lower camel case (`CONDUCTOR_MAX_RETRIES` is `maxRetries`,
    /// `CONDUCTOR_TLS_CA_FILE` is `tlsCaFile`). swift-configuration's `EnvironmentVariablesProvider`
    /// turns the key `conductor.maxRetries` back into `CONDUCTOR_MAX_RETRIES`.
    public var configKey: String {
        let words = variable.dropFirst("CONDUCTOR_".count).lowercased().split(separator: "_")
        return words.enumerated().map { index, word in index == 0 ? String(word) : word.prefix(1).uppercased() + word.dropFirst() }
            .joined()
    }
}

extension ConductorConfiguration {
    /// Reads every setting of ``ConductorSetting/all`` from a swift-configuration `ConfigReader`,
    /// under the key ``ConductorSetting/configKey`` (the variable's name without `CONDUCTOR_`, in
    /// lower camel case: `maxRetries`, `baseUrl`, `timeout`), with the same types, ranges, defaults
    /// and rules as ``fromEnvironment(_:)``: `preset` applies first and explicit keys override it,
    /// and bad input throws one error that lists every offending key with its value and allowed range.
    ///
    /// The keys are relative to `config`: scope it, as swift-configuration recommends for libraries.
    /// Scoped to `conductor`, a reader over `EnvironmentVariablesProvider` reads exactly the
    /// `CONDUCTOR_*` variables that ``fromEnvironment(_:)`` reads (`conductor.maxRetries` is
    /// `CONDUCTOR_MAX_RETRIES`), and a JSON or YAML file nests them as `{"conductor": {"maxRetries": 5}}`.
    /// The Python bridge's `BRIDGE_CONDUCTOR_*` aliases are read by ``fromEnvironment(_:)`` only.
    ///
    /// A value may be text, as the variables take it, or typed: an integer, a number (seconds for
    /// durations), a boolean, or a list of strings (joined with commas, for `baseUrl` and
    /// `metadata`). Blank text counts as unset. `metadata` is read as a secret, so access
    /// reporters redact it.
    ///
    /// ```swift
    /// import Configuration
    /// import ConductorGRPC
    /// import ConductorGRPCConfigReader
    ///
    /// let config = ConfigReader(providers: [
    ///     EnvironmentVariablesProvider(),
    ///     InMemoryProvider(values: ["conductor.preset": "low-latency", "conductor.cacheSize": 2_000]),
    /// ])
    /// let configuration = try ConductorConfiguration(config: config.scoped(to: "conductor"))
    /// let client = try ConductorClient(configuration: configuration)
    /// ```
    ///
    /// Reading is synchronous: it uses the providers' current values (`ConfigReader.string(forKey:)`
    /// and its typed siblings), like reading the environment once at start.
    public init(config: ConfigReader) throws(ConductorError) {
        var resolved: [String: (value: String, name: String)] = [:]
        var keys: [String: String] = [:]
        for setting in ConductorSetting.all {
            let key = setting.configKey
            keys[setting.variable] = key
            let isSecret = setting.variable == "CONDUCTOR_METADATA"
            guard let text = Self.text(ConfigKey([key]), in: config, isSecret: isSecret)?.trimmingWhitespace(), !text.isEmpty
            else { continue }
            resolved[setting.variable] = (text, key)
        }
        self = try Self.resolve(resolved) { problem in problem.renamingVariables(keys) }
    }

    /// The value at `key` as the text its variable would hold: text as it is, a typed value written
    /// out (`2000`, `0.5`, `true`, a list joined with commas), nil when unset.
    private static func text(_ key: ConfigKey, in config: ConfigReader, isSecret: Bool) -> String? {
        if let text = config.string(forKey: key, isSecret: isSecret) { return text }
        if let integer = config.int(forKey: key, isSecret: isSecret) { return String(integer) }
        if let number = config.double(forKey: key, isSecret: isSecret) { return ConductorSetting.format(number) }
        if let flag = config.bool(forKey: key, isSecret: isSecret) { return flag ? "true" : "false" }
        if let list = config.stringArray(forKey: key, isSecret: isSecret) { return list.joined(separator: ",") }
        return nil
    }
}

extension String {
    /// The string with every whole `CONDUCTOR_*` name found in `names` replaced by its entry
    /// (`CONDUCTOR_CONNECTIONS_PER_ENDPOINT` inside `CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT` is not a match).
    func renamingVariables(_ names: [String: String]) -> String {
        func isNameCharacter(_ character: Character) -> Bool {
            character == "_" || ("A"..."Z").contains(character) || ("0"..."9").contains(character)
        }
        var result = ""
        var index = startIndex
        while index < endIndex {
            guard isNameCharacter(self[index]) else {
                result.append(self[index])
                index = self.index(after: index)
                continue
            }
            let end = self[index...].firstIndex { !isNameCharacter($0) } ?? endIndex
            let word = String(self[index..<end])
            result += names[word] ?? word
            index = end
        }
        return result
    }
}
