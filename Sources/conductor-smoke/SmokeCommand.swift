import ArgumentParser
import ConductorGRPC
import Logging

/// `conductor-smoke`: proves in one command that a Chorus Conductor answers.
@main
struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conductor-smoke",
        abstract: "Proves that a Chorus Conductor answers: calls each RPC once, optionally loads it, and reports.",
        discussion: SmokeHelp.discussion,
        version: ConductorClient.version)

    @Option(name: .long, help: ArgumentHelp("The conductor's URL or comma-separated URL list (overrides CONDUCTOR_BASE_URL).",
                                            valueName: "url"))
    var target: String?

    @Option(name: .long, help: ArgumentHelp("http: a remote conductor over gRPC; memory: an in-process conductor (overrides CONDUCTOR_MODE).",
                                            valueName: "http|memory"))
    var mode: String?

    @Option(name: .long, help: "The day whose proof GetDayProof fetches.")
    var day: Int32 = 1

    @Flag(name: .long, help: "Report NOT_FOUND for --day as such (status not_found) instead of a failure.")
    var allowMissing = false

    @Option(name: .long, help: "Events in the SubmitEventsBatch check (1...10000).")
    var batchSize: Int = 10

    @Option(name: .long, help: "Seconds of GetDayProof load after the checks; 0 skips the load phase (0...3600).")
    var duration: Double = 0

    @Option(name: .long, help: "Calls in flight during the load phase (1...10000).")
    var concurrency: Int = 16

    @Option(name: .long, help: ArgumentHelp("Metadata sent with every call, after CONDUCTOR_METADATA; repeatable (e.g. --metadata authorization=\"Bearer x\").",
                                            valueName: "key=value"))
    var metadata: [String] = []

    @Flag(name: .long, help: "Print one JSON object instead of the readable report.")
    var json = false

    @Flag(name: .long, help: "Also print the Prometheus text exposition of every metric recorded (inside the JSON object with --json).")
    var metrics = false

    @Flag(name: .long, help: "Validate the configuration and print it; call nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print the durable outbox's state (CONDUCTOR_OUTBOX_PATH: events waiting, the oldest's age, dead letters); call nothing.")
    var outbox = false

    @Flag(name: .long, help: "Log the client's retries and connection events (debug level) to standard error.")
    var verbose = false

    func validate() throws {
        var problems: [String] = []
        if !(1...10_000).contains(batchSize) { problems.append("--batch-size must be in 1...10000 (got \(batchSize))") }
        if !(duration.isFinite && (0...3600).contains(duration)) { problems.append("--duration must be in 0...3600 seconds (got \(duration))") }
        if !(1...10_000).contains(concurrency) { problems.append("--concurrency must be in 1...10000 (got \(concurrency))") }
        if let mode, !["http", "grpc", "remote", "memory"].contains(mode.lowercased()) {
            problems.append("--mode must be http or memory (got \(mode))")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// Parses the arguments and runs, with this tool's exit codes: bad arguments exit with 2
    /// (ArgumentParser's default would be 64), `--help` with 0.
    static func main() async {
        let command: SmokeCommand
        do {
            command = try parse()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            StandardError.line(fullMessage(for: error))
            exit(withError: ExitCode(SmokeExit.badConfiguration))
        }
        let code = await command.execute()
        if code != 0 { exit(withError: ExitCode(code)) }
    }

    func run() async throws {
        let code = await execute()
        if code != 0 { throw ExitCode(code) }
    }

    /// The whole run; returns the exit code.
    func execute() async -> Int32 {
        var environment = ConductorConfiguration.processEnvironment()
        if let target { environment["CONDUCTOR_BASE_URL"] = target }
        if let mode { environment["CONDUCTOR_MODE"] = mode }
        var configuration: ConductorConfiguration
        do {
            configuration = try ConductorConfiguration.fromEnvironment(environment)
            for entry in metadata {
                try configuration.metadata.append(parsingEntry: entry, variable: "--metadata")
            }
            try configuration.validate()
        } catch {
            return reportInvalid(error)
        }
        if outbox {
            return await reportOutbox(configuration)
        }
        if dryRun {
            if json {
                let sources = ConductorConfiguration.settingSources(environment).mapValues(\.description)
                print(SmokeReport.serialize(["version": SmokeReport.jsonVersion, "outcome": "dry_run", "exit_code": 0,
                                             "configuration": SmokeReport.configurationObject(configuration),
                                             "sources": sources]))
            } else {
                print("configuration is valid:")
                print(ConfigurationSummary.text(configuration, sources: ConductorConfiguration.settingSources(environment)))
            }
            return SmokeExit.passed
        }

        let recorder = MetricsRecorder.bootstrap()
        var logger = Logger(label: "conductor-smoke")
        logger.logLevel = verbose ? .debug : .notice
        let run = SmokeRun(configuration: configuration, day: day, allowMissing: allowMissing, batchSize: batchSize,
                           loadDuration: duration > 0 ? .milliseconds(Int64((duration * 1000).rounded())) : nil,
                           concurrency: concurrency, logger: logger, metrics: recorder)
        let report: SmokeReport
        do {
            report = try await run.run()
        } catch {
            return reportInvalid(error)
        }
        var exposition = metrics ? recorder.exposition() : nil
        if exposition?.isEmpty == true { exposition = "# no metrics were recorded\n" }
        if json {
            print(SmokeReport.serialize(report.jsonObject(metrics: exposition)))
        } else {
            print(report.text)
            if let exposition {
                print("")
                print(exposition, terminator: exposition.hasSuffix("\n") ? "" : "\n")
            }
        }
        return report.outcome.exitCode
    }

    /// `--outbox`: reads the outbox beside the process that delivers it.
    private func reportOutbox(_ configuration: ConductorConfiguration) async -> Int32 {
        guard let path = configuration.outboxPath else {
            return reportInvalid(.invalidConfiguration("--outbox needs CONDUCTOR_OUTBOX_PATH"))
        }
        do {
            let (statistics, deadLetters) = try await ConductorOutbox.inspect(path: path, deadLetterLimit: 20)
            let report = OutboxReport(path: path, statistics: statistics, deadLetters: deadLetters)
            print(json ? SmokeReport.serialize(report.jsonObject) : report.text)
            return SmokeExit.passed
        } catch {
            return reportInvalid(error)
        }
    }

    /// Prints why the configuration is invalid (standard error, and the JSON object with `--json`).
    private func reportInvalid(_ error: ConductorError) -> Int32 {
        StandardError.line("conductor-smoke: \(error.message)")
        if json {
            print(SmokeReport.serialize(["version": SmokeReport.jsonVersion, "outcome": "invalid_configuration",
                                         "exit_code": Int(SmokeExit.badConfiguration), "error": error.message]))
        }
        return SmokeExit.badConfiguration
    }
}
