import ConductorGRPC

/// The long part of `--help`: what is checked, URL forms, the variables (from
/// ``ConductorSetting/all``), output and exit codes.
enum SmokeHelp {
    /// One line per setting: variable, default, range.
    private static let variables = ConductorSetting.all.map { setting in
        let plain = { (text: String) in text.replacingOccurrences(of: "`", with: "") }
        return "  " + setting.variable.padding(39) + plain(setting.defaultText).padding(19) + plain(setting.rangeText)
    }.joined(separator: "\n")

    static let discussion = """
    Checks, in order: connection + HealthCheck, GetDayProof (--day), SubmitEvent, \
    SubmitEventsBatch (--batch-size), then with --duration a GetDayProof load phase \
    (--concurrency calls in flight; a live progress line on standard error when it is a \
    terminal). The report shows each check with its status and latency, the load phase's \
    calls/s and p50/p95/p99, errors by gRPC code, and the circuit breaker and pool state.

    TARGET: --target URL, else CONDUCTOR_BASE_URL. --mode memory (or CONDUCTOR_MODE=memory) \
    checks the in-process conductor instead; it needs no URL.

    URL FORMS
      grpc://host:port, http://host:port, host:port
                                 cleartext HTTP/2; port defaults to 50051 (80 for http://)
      grpc://[::1]:50051         IPv6 literal
      dns:///host:port           every address the name resolves to, re-resolved periodically
      unix:///path/to/socket     cleartext HTTP/2 over a unix socket
      grpcs://host:port, https://host:port
                                 HTTP/2 over TLS 1.2+ (ALPN h2, SNI, host-name check); port
                                 defaults to 443 for https://
      A comma-separated list is accepted: each entry is an endpoint of the client's pool.

    VARIABLES (every CONDUCTOR_* variable applies; default, range)
    \(variables)
    --dry-run prints the effective value of each.

    OUTPUT
      --json prints one JSON object: version, outcome (passed | failed | unreachable | \
    invalid_configuration | dry_run), exit_code, mode, target, configuration, checks \
    [{id, name, status (passed | failed | not_found | skipped), code, latency_ms, detail}], \
    load {calls, errors, duration_s, concurrency, calls_per_second, p50_ms, p95_ms, p99_ms, \
    errors_by_code} or null, errors_by_code, circuit_breakers [{endpoint, state}], \
    pool_size, and with --metrics the exposition text as metrics.
      --metrics prints the Prometheus text exposition of every bridge_conductor_* metric \
    recorded during the run.

    EXIT CODES
      0 all checks passed    1 a check failed
      2 bad arguments or configuration (the message lists what is wrong)
      3 the conductor could not be reached

    EXAMPLES
      conductor-smoke --target grpc://conductor:50051 --day 42 --allow-missing
      conductor-smoke --target grpc://conductor:50051 --duration 10 --concurrency 32
      CONDUCTOR_MODE=memory conductor-smoke --json --metrics
    """
}

extension String {
    /// The string followed by spaces up to `width` characters (at least one space).
    fileprivate func padding(_ width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(1, width - count))
    }
}
