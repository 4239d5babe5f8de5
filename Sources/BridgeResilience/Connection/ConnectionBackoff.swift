/// The gRPC connection-backoff algorithm (the gRPC project's `connection-backoff` document):
/// after the n-th consecutive failed connection attempt, wait
/// `min(initial · multiplier^(n-1), maximum)`, randomised by ±`jitter`, before trying again;
/// each attempt may take at least `minimumConnectTimeout`. The count resets when a connection
/// succeeds (the server's SETTINGS arrive).
public struct ConnectionBackoff: Sendable, Hashable {
    /// The wait after the first failure; default 1 s.
    public var initial: Duration
    /// Growth per further failure; default 1.6.
    public var multiplier: Double
    /// The relative randomisation, 0...1; default 0.2 (±20 %).
    public var jitter: Double
    /// The largest wait before jitter; default 120 s.
    public var maximum: Duration
    /// The shortest time a connection attempt is given; default 20 s.
    public var minimumConnectTimeout: Duration

    /// Creates the algorithm with gRPC's defaults unless told otherwise.
    public init(
        initial: Duration = .seconds(1),
        multiplier: Double = 1.6,
        jitter: Double = 0.2,
        maximum: Duration = .seconds(120),
        minimumConnectTimeout: Duration = .seconds(20)
    ) {
        precondition(initial > .zero && maximum >= initial, "backoff needs 0 < initial <= maximum")
        precondition(multiplier >= 1 && (0...1).contains(jitter), "backoff needs multiplier >= 1 and jitter in 0...1")
        self.initial = initial
        self.multiplier = multiplier
        self.jitter = jitter
        self.maximum = maximum
        self.minimumConnectTimeout = minimumConnectTimeout
    }

    /// The wait before the next attempt after `failures` consecutive failures (at least 1).
    public func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = ceiling(afterFailures: failures)
        let factor = jitter == 0 ? 1 : Double.random(in: (1 - jitter)...(1 + jitter), using: &generator)
        return base * factor
    }

    /// The wait before jitter after `failures` consecutive failures.
    public func ceiling(afterFailures failures: Int) -> Duration {
        precondition(failures >= 1, "the first wait follows the first failure")
        let initialSeconds = initial.seconds
        let maximumSeconds = maximum.seconds
        var seconds = initialSeconds
        for _ in 1..<min(failures, 64) {
            seconds *= multiplier
            if seconds >= maximumSeconds { return maximum }
        }
        return .nanoseconds(Int64((min(seconds, maximumSeconds) * 1e9).rounded()))
    }

    /// How long an attempt may take: the larger of `minimumConnectTimeout` and the current wait.
    public func connectTimeout(afterFailures failures: Int) -> Duration {
        failures == 0 ? minimumConnectTimeout : max(minimumConnectTimeout, ceiling(afterFailures: failures))
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
