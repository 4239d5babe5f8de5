#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The command line shared by `conductor-bench` and the grpc-swift-2 peer:
///
///     --target grpc://HOST:PORT --scenario unary|concurrent|batch|submit|cached
///     [--concurrency N] [--duration SECONDS] [--calls N] [--executor global|loop]
///
/// `--calls` stops after that many calls (split across the concurrent workers) instead of after
/// `--duration`; it is meant for smoke runs. `--executor loop` runs the calling tasks on the
/// client's event-loop thread (`ConductorClient.loopExecutor`); only `conductor-bench` has one.
///
/// This file is shared with the grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`) through a symlink.
struct BenchOptions: Sendable {
    var target: String
    var scenario: Scenario
    var concurrency: Int
    var duration: Duration
    var calls: Int?
    var executor: Executor = .global

    /// Where the calling tasks run.
    enum Executor: String, Sendable, CaseIterable {
        /// Swift's global concurrent executor: what a service gets without asking.
        case global
        /// The client's event-loop thread.
        case loop
    }

    /// The target's host and port, from `grpc://HOST:PORT` or `HOST:PORT`.
    var hostAndPort: (host: String, port: Int)? {
        var rest = Substring(target)
        if let range = rest.firstRange(of: "://") { rest = rest[range.upperBound...] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) else { return nil }
        return (String(rest[..<colon]), port)
    }

    static let usage = """
        usage: \(CommandLine.arguments.first ?? "bench") --target grpc://HOST:PORT \
        --scenario \(Scenario.allCases.map(\.rawValue).joined(separator: "|")) \
        [--concurrency N] [--duration SECONDS] [--calls N] [--executor global|loop]
        """

    /// The process's options. On a bad command line, prints what is wrong and the usage to standard
    /// error and exits with status 2.
    static func fromCommandLine(program: String) -> BenchOptions {
        switch parse(Array(CommandLine.arguments.dropFirst())) {
        case .success(let options):
            return options
        case .failure(let error):
            BenchReport.writeStandardError("\(program): \(error.message)\n\(usage)")
            exit(2)
        }
    }

    /// Parses the process's arguments, or returns a message saying what is wrong.
    static func parse(_ arguments: [String]) -> Result<BenchOptions, UsageError> {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard ["--target", "--scenario", "--concurrency", "--duration", "--calls", "--executor"].contains(name) else {
                return .failure(UsageError(message: "unknown option \(name)"))
            }
            guard index + 1 < arguments.count else { return .failure(UsageError(message: "\(name) needs a value")) }
            values[name] = arguments[index + 1]
            index += 2
        }
        guard let target = values["--target"] else { return .failure(UsageError(message: "--target is required")) }
        guard let scenarioName = values["--scenario"], let scenario = Scenario(rawValue: scenarioName) else {
            return .failure(UsageError(message: "--scenario must be one of \(Scenario.allCases.map(\.rawValue))"))
        }
        var options = BenchOptions(target: target, scenario: scenario, concurrency: scenario.defaultConcurrency,
                                   duration: .seconds(10), calls: nil)
        if let text = values["--concurrency"] {
            guard let value = Int(text), value > 0 else { return .failure(UsageError(message: "bad --concurrency \(text)")) }
            options.concurrency = value
        }
        if let text = values["--duration"] {
            guard let value = Double(text), value > 0 else { return .failure(UsageError(message: "bad --duration \(text)")) }
            options.duration = .nanoseconds(Int64(value * 1e9))
        }
        if let text = values["--calls"] {
            guard let value = Int(text), value > 0 else { return .failure(UsageError(message: "bad --calls \(text)")) }
            options.calls = value
        }
        if let text = values["--executor"] {
            guard let value = Executor(rawValue: text) else { return .failure(UsageError(message: "bad --executor \(text)")) }
            options.executor = value
        }
        guard options.hostAndPort != nil else { return .failure(UsageError(message: "bad --target \(target)")) }
        return .success(options)
    }

    /// Why the command line was refused.
    struct UsageError: Error {
        var message: String
    }
}
