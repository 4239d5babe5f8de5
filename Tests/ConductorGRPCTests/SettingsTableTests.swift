import ConductorGRPC
import Foundation
import Testing

/// The settings table is the one statement of every variable; the README must say the same.
struct SettingsTableTests {
    private static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    private static func row(_ setting: ConductorSetting) -> String {
        "| `\(setting.variable)` | \(setting.defaultText) | \(setting.rangeText) | \(setting.meaning) |"
    }

    @Test func theReadmeConfigurationTableIsTheSettingsTable() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let documented = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("| `CONDUCTOR_") }
        let expected = ConductorSetting.all.map(Self.row)
        #expect(documented == expected, "README.md's configuration table should read:\n\(expected.joined(separator: "\n"))")
    }

    @Test func everyVariableIsReadAndEveryPropertyValidatedWithTheSameRanges() throws {
        for setting in ConductorSetting.all where setting.rangeText.first?.isNumber == true {
            let bad = "-5"
            let message = try #require(problem([setting.variable: bad]), "\(setting.variable)=\(bad) is refused")
            #expect(message.contains(setting.variable), "\(message)")
        }
        var configuration = ConductorConfiguration()
        configuration.maxRetries = 11
        configuration.timeout = .seconds(301)
        configuration.cacheSize = 0
        let error = #expect(throws: ConductorError.self) { try configuration.validate() }
        let message = error?.message ?? ""
        #expect(message.contains("maxRetries=11 is out of range 0...10"), "\(message)")
        #expect(message.contains("timeout=301 s is out of range 0.001...300 seconds"), "\(message)")
        #expect(message.contains("cacheSize=0 is out of range 1...1000000"), "\(message)")
    }

    @Test func defaultsOfTheTableAreTheConfigurationDefaults() throws {
        let fromEnvironment = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_MODE": "memory"])
        var defaults = ConductorConfiguration()
        defaults.mode = .memory
        #expect(fromEnvironment == defaults)
        #expect(ConductorSetting.all.map(\.variable).count == Set(ConductorSetting.all.map(\.variable)).count)
    }

    private func problem(_ environment: [String: String]) -> String? {
        do {
            _ = try ConductorConfiguration.fromEnvironment(["CONDUCTOR_BASE_URL": "grpc://127.0.0.1:1"].merging(environment) { $1 })
            return nil
        } catch {
            return error.message
        }
    }
}
