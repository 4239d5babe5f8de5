#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints a run's one machine-readable line, the format `Scripts/bench.sh` parses:
///
///     RESULT client=ours scenario=concurrent concurrency=64 calls=… events=… errors=… seconds=… p50_us=… p99_us=…
///
/// `calls` counts every call made, `errors` those that failed. Extra `key=value` fields may follow.
/// The first few distinct errors, if any, go to standard error.
///
/// This file is shared with the grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`) through a symlink.
struct BenchReport {
    let client: String
    let options: BenchOptions
    let outcome: LoadDriver.Outcome
    var extra: [(String, String)] = []

    var line: String {
        let fields: [(String, String)] = [
            ("client", client),
            ("scenario", options.scenario.rawValue),
            ("concurrency", String(options.concurrency)),
            ("calls", String(outcome.calls)),
            ("events", String(outcome.calls * options.scenario.eventsPerCall)),
            ("errors", String(outcome.errors)),
            ("seconds", Self.decimal(outcome.seconds, places: 3)),
            ("p50_us", Self.decimal(outcome.histogram.percentile(0.50) / 1000, places: 3)),
            ("p99_us", Self.decimal(outcome.histogram.percentile(0.99) / 1000, places: 3)),
        ] + extra
        return "RESULT " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    func print() {
        if !outcome.distinctErrors.isEmpty {
            Self.writeStandardError("\(client): \(outcome.errors) calls failed; first errors: "
                                    + outcome.distinctErrors.joined(separator: " | "))
        }
        Swift.print(line)
    }

    /// Writes one line to standard error.
    static func writeStandardError(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    private static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale), fraction = scaled % Int64(scale)
        let digits = String(fraction)
        return "\(whole)." + String(repeating: "0", count: places - digits.count) + digits
    }
}
