import Synchronization

/// gRPC's retry throttling: a token bucket shared by all calls to one dependency.
///
/// The bucket starts full with ``maxTokens`` tokens. Every failure that the policy would retry
/// costs one token, every successful call earns ``tokenRatio`` tokens (up to ``maxTokens``), and
/// retries are allowed only while more than half of the tokens remain. When the dependency is
/// down, failures drain the bucket and retries stop, so it does not receive several times its
/// normal load; successes refill it.
///
/// Tokens are kept as an integer number of thousandths, as gRPC does, so the arithmetic is exact.
/// All methods are lock-free.
public final class RetryBudget: Sendable {
    /// The bucket's capacity and initial content.
    public let maxTokens: Int
    /// Tokens earned by each success (gRPC uses at most three decimal places).
    public let tokenRatio: Double

    private let milliTokens: Atomic<Int>
    private let maxMilliTokens: Int
    private let milliTokensPerSuccess: Int

    /// Creates a full bucket.
    ///
    /// - Parameters:
    ///   - maxTokens: capacity, in `1...1000` (gRPC's range); default 10.
    ///   - tokenRatio: tokens per success, positive, rounded to thousandths; default 0.1.
    public init(maxTokens: Int = 10, tokenRatio: Double = 0.1) {
        precondition((1...1000).contains(maxTokens), "maxTokens must be in 1...1000")
        let milliRatio = Int((tokenRatio * 1000).rounded())
        precondition(milliRatio >= 1, "tokenRatio must be at least 0.001")
        self.maxTokens = maxTokens
        self.tokenRatio = tokenRatio
        maxMilliTokens = maxTokens * 1000
        milliTokensPerSuccess = milliRatio
        milliTokens = Atomic(maxTokens * 1000)
    }

    /// The tokens currently in the bucket.
    public var tokens: Double {
        Double(milliTokens.load(ordering: .relaxed)) / 1000
    }

    /// Whether retries are currently allowed: more than half of ``maxTokens`` remain.
    public var canRetry: Bool {
        milliTokens.load(ordering: .relaxed) > maxMilliTokens / 2
    }

    /// Adds ``tokenRatio`` tokens, up to ``maxTokens``. Call it for every successful call.
    public func recordSuccess() {
        update { min($0 + milliTokensPerSuccess, maxMilliTokens) }
    }

    /// Removes one token (not below zero). ``RetryPolicy`` calls it for every retryable failure.
    public func recordFailure() {
        update { max($0 - 1000, 0) }
    }

    private func update(_ transform: (Int) -> Int) {
        var current = milliTokens.load(ordering: .relaxed)
        while true {
            let desired = transform(current)
            if desired == current {
                return
            }
            let (exchanged, original) = milliTokens.compareExchange(
                expected: current,
                desired: desired,
                ordering: .relaxed
            )
            if exchanged {
                return
            }
            current = original
        }
    }
}
