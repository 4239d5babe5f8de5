import Foundation

/// The project's reference conductors, started on a free loopback port for one test and stopped
/// when the test is done: Scripts/reference_conductor.py (grpcio), or with `protocol: .rest`
/// Scripts/reference_rest_conductor.py (hypercorn: HTTP/1.1, and h2 over TLS). Both write the
/// same request log.
final class ReferenceConductor: @unchecked Sendable {
    /// Which server: the gRPC one, or the REST one.
    enum ServerProtocol: Sendable {
        case grpc, rest
    }

    /// One line of the server's request log.
    struct LogEntry: Sendable {
        var method: String
        var outcome: String
        var day: Int?
        var attempt: Int
        var eventHashes: [String]
        var payloadBytes: [Int]
        var peer: String
        var start: Double
        var time: Double
        /// Custom request metadata; `-bin` values base64 (padded); repeated keys joined with ",".
        var metadata: [String: String]
        /// The REST conductor's HTTP version ("1.1", "2"); empty from the gRPC one.
        var httpVersion: String = ""
        /// A submit's events were applied.
        var applied = false
    }

    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    let process: Process
    let port: Int
    let logPath: String
    let serverProtocol: ServerProtocol
    let usesTLS: Bool
    private let workDirectory: URL

    /// `grpc://127.0.0.1:PORT`, or `http://` / `https://` for the REST server.
    var url: String {
        switch serverProtocol {
        case .grpc: "\(usesTLS ? "grpcs" : "grpc")://127.0.0.1:\(port)"
        case .rest: "\(usesTLS ? "https" : "http")://127.0.0.1:\(port)"
        }
    }

    private init(process: Process, port: Int, logPath: String, serverProtocol: ServerProtocol, usesTLS: Bool, workDirectory: URL) {
        self.process = process
        self.port = port
        self.logPath = logPath
        self.serverProtocol = serverProtocol
        self.usesTLS = usesTLS
        self.workDirectory = workDirectory
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// Starts a server with extra command-line arguments (see `reference_conductor.py --help` and
    /// `reference_rest_conductor.py --help`).
    static func start(_ arguments: [String] = [], port: Int = 0, protocol serverProtocol: ServerProtocol = .grpc) async throws
        -> ReferenceConductor {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("refconductor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let logPath = work.appendingPathComponent("requests.jsonl").path
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent(".venv/bin/python")
        let script = serverProtocol == .grpc ? "Scripts/reference_conductor.py" : "Scripts/reference_rest_conductor.py"
        // The REST conductor closes a connection idle for 5 s unless told otherwise (the gRPC one
        // never does). On a loaded machine two calls of one test can be that far apart (seen: 5.4 s
        // under Scripts/stress-tests.sh), and a call would then race the close. A test that wants
        // the close passes its own --max-connection-idle, which wins (the last one counts).
        let idle = serverProtocol == .rest ? ["--max-connection-idle", "600"] : []
        process.arguments = [repositoryRoot.appendingPathComponent(script).path,
                             "--port", String(port), "--log", logPath, "--exit-with-parent"] + idle + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let listening = try await ServerStartup.readListeningPort(stdout.fileHandleForReading)
        return ReferenceConductor(process: process, port: listening, logPath: logPath, serverProtocol: serverProtocol,
                                  usesTLS: arguments.contains("--tls-cert"), workDirectory: work)
    }

    /// Stops the server with SIGTERM and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: its sockets stay open but nothing answers.
    func freeze(_ frozen: Bool) {
        Foundation.kill(process.processIdentifier, frozen ? SIGSTOP : SIGCONT)
    }

    /// Kills the server with SIGKILL: no GOAWAY, sockets just close.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Everything the server logged so far.
    func log() -> [LogEntry] {
        ServerStartup.jsonLines(at: logPath).map { object in
            LogEntry(
                method: object["method"] as? String ?? "",
                outcome: object["outcome"] as? String ?? "",
                day: object["day"] as? Int,
                attempt: object["attempt"] as? Int ?? 0,
                eventHashes: object["event_hashes"] as? [String] ?? [],
                payloadBytes: object["payload_bytes"] as? [Int] ?? [],
                peer: object["peer"] as? String ?? "",
                start: object["start"] as? Double ?? 0,
                time: object["time"] as? Double ?? 0,
                metadata: (object["metadata"] as? [String: Any] ?? [:]).mapValues { value in
                    (value as? [String])?.joined(separator: ",") ?? value as? String ?? ""
                },
                httpVersion: object["http_version"] as? String ?? "",
                applied: object["applied"] as? Bool ?? false)
        }
    }

    /// Waits until the log holds an entry matching `predicate`, up to `timeout`.
    func waitForLog(timeout: Duration = .seconds(30), _ predicate: (LogEntry) -> Bool) async -> LogEntry? {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if let entry = log().first(where: predicate) { return entry }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
