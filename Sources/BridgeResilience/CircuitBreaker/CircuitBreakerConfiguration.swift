/// When a ``CircuitBreaker`` opens, for how long, and how it probes for recovery.
public struct CircuitBreakerConfiguration: Sendable, Hashable {
    /// Consecutive failures, while closed, that open the breaker. At least 1; default 5.
    public var failureThreshold: Int

    /// How long the breaker stays open the first time it opens. Positive; default 60 s.
    public var openDuration: Duration

    /// The cap on the open duration, as a multiple of ``openDuration``. At least 1; default 10.
    ///
    /// Each time a failed probe re-opens the breaker, the open duration doubles
    /// (`openDuration`, ×2, ×4, ×8, then ×10 with the default cap). It returns to
    /// ``openDuration`` when the breaker closes.
    public var maxOpenDurationMultiplier: Int

    /// The number of probe calls admitted at the same time while half-open. At least 1; default 1.
    public var halfOpenProbeLimit: Int

    /// An additional rule that opens the breaker on a high failure rate; `nil` (the default) turns it off.
    public var failureRate: FailureRate?

    /// Creates a configuration; every parameter defaults to the documented value.
    public init(
        failureThreshold: Int = 5,
        openDuration: Duration = .seconds(60),
        maxOpenDurationMultiplier: Int = 10,
        halfOpenProbeLimit: Int = 1,
        failureRate: FailureRate? = nil
    ) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
        self.maxOpenDurationMultiplier = maxOpenDurationMultiplier
        self.halfOpenProbeLimit = halfOpenProbeLimit
        self.failureRate = failureRate
    }
}
