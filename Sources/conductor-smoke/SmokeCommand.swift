import ArgumentParser
import ConductorGRPC

@main
struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conductor-smoke",
        abstract: "Proves that a Chorus Conductor answers over gRPC: calls each RPC once and reports.",
        discussion: """
        The target comes from --target or CONDUCTOR_BASE_URL. URL forms: grpc://host:port or \
        http://host:port (cleartext HTTP/2), unix:///path/to/socket. Every CONDUCTOR_* variable applies \
        (see the README). Exit code 0 means every check passed, 1 that a check failed, 2 bad arguments \
        or configuration, 3 that the conductor could not be reached.
        """)

    @Option(name: .long, help: "The conductor's URL (overrides CONDUCTOR_BASE_URL).")
    var target: String?

    @Option(name: .long, help: "The day whose proof is fetched.")
    var day: Int32 = 1

    @Flag(name: .long, help: "Report NOT_FOUND for the day as such instead of a failure.")
    var allowMissing = false

    @Option(name: .long, help: "Events in the SubmitEventsBatch check.")
    var batchSize: Int = 10

    @Option(name: .long, help: "Seconds of GetDayProof load after the checks (0: no load phase).")
    var duration: Double = 0

    @Option(name: .long, help: "Calls in flight during the load phase.")
    var concurrency: Int = 16

    func validate() throws {
        guard batchSize >= 1 && batchSize <= 10_000 else { throw ValidationError("--batch-size must be in 1...10000") }
        guard duration >= 0 && duration <= 3600 else { throw ValidationError("--duration must be in 0...3600 seconds") }
        guard concurrency >= 1 && concurrency <= 10_000 else { throw ValidationError("--concurrency must be in 1...10000") }
    }

    mutating func run() async throws {
        var environment = ProcessEnvironment.conductorVariables()
        if let target { environment["CONDUCTOR_BASE_URL"] = target }
        let configuration: ConductorConfiguration
        let client: ConductorClient
        do {
            configuration = try ConductorConfiguration.fromEnvironment(environment)
            client = try ConductorClient(configuration: configuration)
        } catch {
            print("conductor-smoke: \(error.message)")
            throw ExitCode(2)
        }
        let report = await SmokeChecks(client: client, day: day, allowMissing: allowMissing, batchSize: batchSize).run()
        print(report.text)
        var loadFailed = false
        if duration > 0 && report.passed {
            let summary = await LoadPhase(client: client, duration: .milliseconds(Int64(duration * 1000)), concurrency: concurrency).run()
            print(summary.text)
            loadFailed = !summary.errorsByCode.isEmpty
        }
        await client.shutdown()
        if report.unreachable { throw ExitCode(3) }
        if !report.passed || loadFailed { throw ExitCode(1) }
    }
}
