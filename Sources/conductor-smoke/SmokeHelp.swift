/// The long part of `--help`: what is checked, URL forms, the variables, output and exit codes.
/// Keep it true to the README's tables.
enum SmokeHelp {
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
      CONDUCTOR_MODE                      http      http | memory
      CONDUCTOR_PROTOCOL                  grpc      grpc
      CONDUCTOR_BASE_URL                  -         URL list, required in http mode
      CONDUCTOR_MAX_RETRIES               3         0-10
      CONDUCTOR_RETRY_DELAY               1.0 s     0.1-60
      CONDUCTOR_RETRY_MAX_DELAY           10 s      0.1-300
      CONDUCTOR_RETRY_BUDGET_TOKENS       10        1-1000
      CONDUCTOR_RETRY_BUDGET_RATIO        0.1       0.01-1
      CONDUCTOR_TIMEOUT                   30 s      1-300 (whole call, retries included)
      CONDUCTOR_CIRCUIT_BREAKER_THRESHOLD 5         1-50
      CONDUCTOR_CIRCUIT_BREAKER_TIMEOUT   60 s      10-600
      CONDUCTOR_CACHE_TTL                 300 s     60-3600
      CONDUCTOR_CACHE_SIZE                1000      100-10000
      CONDUCTOR_CACHE_SERVE_STALE         false     bool
      CONDUCTOR_SUBMIT_DEDUPLICATED       true      bool
      CONDUCTOR_MAX_MESSAGE_BYTES         4194304   1024-268435456
      CONDUCTOR_CONNECT_TIMEOUT           20 s      1-120
      CONDUCTOR_KEEPALIVE_INTERVAL        30 s      0 or 10-3600
      CONDUCTOR_KEEPALIVE_TIMEOUT         20 s      1-300
      CONDUCTOR_CONNECTIONS_PER_ENDPOINT  1         1-16
      CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT 4      1-64 (more open when all are at the stream limit)
      CONDUCTOR_MAX_PENDING_CALLS         1000      0-100000
      CONDUCTOR_HEALTH_CHECK_INTERVAL     30 s      0 or 1-3600
      CONDUCTOR_HEALTH_CHECK_SERVICE      conductor conductor | grpc
      CONDUCTOR_DNS_REFRESH_INTERVAL      30 s      1-3600
      CONDUCTOR_TLS_CA_FILE               system    PEM file: CAs grpcs:// servers are checked against
      CONDUCTOR_TLS_CERT_FILE             -         PEM file: client certificate (mutual TLS)
      CONDUCTOR_TLS_KEY_FILE              -         PEM file: its key (both or neither)
      CONDUCTOR_TLS_SERVER_NAME           the host  name checked in the certificate and sent as SNI
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
