/// The load phase's live progress line on standard error, redrawn about once a second, only when
/// standard error is a terminal (so logs, pipes and CI output stay clean).
struct ProgressLine {
    let counters: LoadCounters
    let duration: Duration

    /// Redraws the line until the task is cancelled, then erases it.
    func run() async {
        guard StandardError.isTerminal else { return }
        let clock = ContinuousClock()
        let start = clock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let total = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            let calls = counters.calls
            let rate = seconds > 0 ? Int((Double(calls) / seconds).rounded()) : 0
            StandardError.write("\r\u{1B}[Kload: \(Int(seconds)) s of \(Int(total.rounded(.up))) s, \(calls) calls, "
                + "\(rate) calls/s, \(counters.errors) errors")
        }
        StandardError.write("\r\u{1B}[K")
    }
}
