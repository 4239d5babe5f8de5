extension CircuitBreakerConfiguration {
    /// Opens a closed breaker when the failure rate over the most recent outcomes reaches a threshold.
    ///
    /// The window holds the last ``windowSize`` successes and failures recorded while closed
    /// (ignored outcomes are not part of it). The rule is only evaluated once the window holds at
    /// least ``minimumCalls`` outcomes, so a single early failure cannot open the breaker.
    /// The window is emptied whenever the breaker changes state.
    public struct FailureRate: Sendable, Hashable {
        /// The failure fraction that opens the breaker, in `0 < threshold ≤ 1`.
        public var threshold: Double

        /// How many recent outcomes the window holds. At least 1.
        public var windowSize: Int

        /// How many outcomes the window must hold before the rule applies, in `1...windowSize`.
        public var minimumCalls: Int

        /// Creates a failure-rate rule, by default "half of the last 100 calls, once 20 were seen".
        public init(threshold: Double = 0.5, windowSize: Int = 100, minimumCalls: Int = 20) {
            self.threshold = threshold
            self.windowSize = windowSize
            self.minimumCalls = minimumCalls
        }
    }
}
