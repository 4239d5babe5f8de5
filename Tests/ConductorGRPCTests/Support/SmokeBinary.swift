import Foundation

/// The built `conductor-smoke` executable, run as a child process.
///
/// It is found next to the test bundle (`swift build --build-tests`, which Scripts/test.sh runs,
/// builds every product into the same directory), else in `.build/debug`.
enum SmokeBinary {
    /// The result of one run.
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable, or nil when it has not been built.
    static let url: URL? = {
        var directories: [URL] = []
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        directories.append(ReferenceConductor.repositoryRoot.appendingPathComponent(".build/debug"))
        return directories
            .map { $0.appendingPathComponent("conductor-smoke") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs the binary with `arguments`. The child gets this process's environment without any
    /// `CONDUCTOR_*` variable, plus `environment`.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        guard let url else { throw MissingBinary() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let stdoutURL = work.appendingPathComponent("stdout")
        let stderrURL = work.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var childEnvironment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("CONDUCTOR_") && !$0.key.hasPrefix("BRIDGE_CONDUCTOR_")
        }
        childEnvironment.merge(environment) { $1 }
        process.environment = childEnvironment
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            // Waiting in a termination handler keeps the cooperative pool's threads free.
            process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try stdoutHandle.close()
        try stderrHandle.close()
        return Output(status: status,
                      stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
                      stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "conductor-smoke is not built: run swift build --build-tests (Scripts/test.sh does)" }
    }
}
