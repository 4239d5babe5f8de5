import Foundation

/// The misbehaving HTTP/2 server (Scripts/fault_server.py on the Python `h2` library), started on a
/// free loopback port in one fault mode for one test and stopped when the test is done.
final class FaultServer: @unchecked Sendable {
    /// One line of the server's event log (see the script's docstring).
    struct LogEntry: Sendable {
        /// `connection`, `headers`, `request`, `answer`, `reset`, `ping`, `sent`, `received`, `closed`, `error`.
        var event: String
        /// The connection's number, from 1 in accept order.
        var connection: Int
        /// The HTTP/2 stream, for stream events.
        var stream: Int?
        var path: String?
        /// `answer`: what the server did (`ok` or the mode).
        var action: String?
        /// `reset`: the RST_STREAM error code's name, e.g. `CANCEL`.
        var code: String?
        /// `request`: the DATA frames of the request, those with bytes, and the bytes.
        var dataFrames: Int?
        var dataFramesWithBytes: Int?
        var dataBytes: Int?
        /// `request`: `data`, `empty-data`, `headers` or `trailers`.
        var endStreamOn: String?
        /// `request`: END_STREAM rode on a DATA frame that carried bytes.
        var endStreamWithData: Bool?
        /// `sent`, `received`: bytes.
        var bytes: Int?
        /// `sent`: why the server stopped sending.
        var why: String?
        /// `ping`: the streams open on the server when the client's PING arrived.
        var open: Int?
    }

    let process: Process
    let port: Int
    let mode: String
    let logPath: String
    private let workDirectory: URL

    /// `grpc://127.0.0.1:PORT`
    var url: String { "grpc://127.0.0.1:\(port)" }

    private init(process: Process, port: Int, mode: String, logPath: String, workDirectory: URL) {
        self.process = process
        self.port = port
        self.mode = mode
        self.logPath = logPath
        self.workDirectory = workDirectory
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// Starts a server in `mode` (see `fault_server.py`), with extra arguments such as
    /// `--only-odd-days` or `--delay-ok 0.5`.
    static func start(mode: String, _ arguments: [String] = []) async throws -> FaultServer {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("faultserver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let logPath = work.appendingPathComponent("events.jsonl").path
        let root = ReferenceConductor.repositoryRoot
        let process = Process()
        process.executableURL = root.appendingPathComponent(".venv/bin/python")
        process.arguments = [root.appendingPathComponent("Scripts/fault_server.py").path,
                             "--mode", mode, "--log", logPath, "--exit-with-parent"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let port = try await ServerStartup.readListeningPort(stdout.fileHandleForReading)
        return FaultServer(process: process, port: port, mode: mode, logPath: logPath, workDirectory: work)
    }

    /// Stops the server with SIGTERM and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Everything the server logged so far.
    func log() -> [LogEntry] {
        ServerStartup.jsonLines(at: logPath).map { object in
            LogEntry(
                event: object["event"] as? String ?? "",
                connection: object["conn"] as? Int ?? 0,
                stream: object["stream"] as? Int,
                path: object["path"] as? String,
                action: object["action"] as? String,
                code: object["code"] as? String,
                dataFrames: object["data_frames"] as? Int,
                dataFramesWithBytes: object["data_frames_with_bytes"] as? Int,
                dataBytes: object["data_bytes"] as? Int,
                endStreamOn: object["end_stream_on"] as? String,
                endStreamWithData: object["end_stream_with_data"] as? Bool,
                bytes: object["bytes"] as? Int,
                why: object["why"] as? String,
                open: object["open"] as? Int)
        }
    }

    /// The log entries of one kind.
    func log(_ event: String) -> [LogEntry] {
        log().filter { $0.event == event }
    }

    /// Waits until the log holds an entry matching `predicate`, up to `timeout`.
    func waitForLog(timeout: Duration = .seconds(5), _ predicate: (LogEntry) -> Bool) async -> LogEntry? {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if let entry = log().first(where: predicate) { return entry }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
