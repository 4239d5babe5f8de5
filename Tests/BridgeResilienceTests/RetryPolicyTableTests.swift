import BridgeResilience
import Testing

@Suite("Retry policy: what may be retried")
struct RetryPolicyTableTests {
    /// The design's table: which failure classes each call safety may retry (besides `notSent`).
    static let expectedRetryable: [CallSafety: Set<FailureClass>] = [
        .idempotent: [.notSent, .unavailable, .resourceExhausted, .aborted, .attemptDeadlineExceeded],
        .deduplicatedWrite: [.notSent, .unavailable],
        .nonIdempotentWrite: [.notSent],
    ]

    static let allCombinations: [(FailureClass, CallSafety)] = FailureClass.allCases.flatMap { failure in
        CallSafety.allCases.map { (failure, $0) }
    }

    let policy = RetryPolicy()

    @Test("allowsRetry follows the table", arguments: allCombinations)
    func table(failure: FailureClass, safety: CallSafety) throws {
        let expected = try #require(Self.expectedRetryable[safety]).contains(failure)
        #expect(safety.allowsRetry(after: failure) == expected)
    }

    @Test("a first failure is retried (counted, with backoff) exactly when the table allows it", arguments: allCombinations)
    func firstCountedFailure(failure: FailureClass, safety: CallSafety) throws {
        var generator = SplitMix64(seed: 1)
        // Past the transparent-retry cap, so that `notSent` is judged like the other classes.
        let transparent = RetryPolicy.maxTransparentRetries
        let decision = policy.decision(
            after: failure, safety: safety, attempts: transparent + 1, transparentRetries: transparent,
            timeRemaining: .seconds(30), using: &generator
        )
        if try #require(Self.expectedRetryable[safety]).contains(failure) {
            guard case .retry(let delay, let isTransparent) = decision else {
                Issue.record("expected a retry, got \(decision)")
                return
            }
            #expect(!isTransparent)
            #expect(delay >= .zero && delay <= .seconds(1))
        } else {
            #expect(decision == .stop(.notRetryable))
        }
    }

    @Test("notSent is retried transparently and immediately for every call safety", arguments: CallSafety.allCases)
    func transparentRetry(safety: CallSafety) {
        let budget = RetryBudget()
        for transparentRetries in 0..<RetryPolicy.maxTransparentRetries {
            let decision = policy.decision(
                after: .notSent, safety: safety, attempts: transparentRetries + 1,
                transparentRetries: transparentRetries, timeRemaining: .seconds(30), budget: budget
            )
            #expect(decision == .retry(after: .zero, transparent: true))
        }
        #expect(budget.tokens == 10, "transparent retries cost no budget token")
    }

    @Test("transparent retries neither count as attempts nor need the budget")
    func transparentRetriesAreFree() {
        let budget = RetryBudget()
        for _ in 0..<5 {
            budget.recordFailure()
        }
        #expect(!budget.canRetry)
        let policy = RetryPolicy(maxRetries: 0)
        #expect(policy.decision(
            after: .notSent, safety: .nonIdempotentWrite, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(1), budget: budget
        ) == .retry(after: .zero, transparent: true))
        // Three transparent retries, then one counted attempt: the first real failure is attempt 1.
        var generator = SplitMix64(seed: 7)
        let decision = RetryPolicy(maxRetries: 1).decision(
            after: .unavailable, safety: .idempotent, attempts: 4, transparentRetries: 3,
            timeRemaining: .seconds(30), using: &generator
        )
        guard case .retry(let delay, false) = decision else {
            Issue.record("expected a counted retry, got \(decision)")
            return
        }
        #expect(delay <= .seconds(1), "first counted retry: the backoff ceiling is the base")
    }

    @Test("past the transparent cap, notSent is an ordinary retry with backoff, budget and maxRetries")
    func transparentCap() {
        let budget = RetryBudget()
        let cap = RetryPolicy.maxTransparentRetries
        var generator = SplitMix64(seed: 3)
        let first = policy.decision(
            after: .notSent, safety: .nonIdempotentWrite, attempts: cap + 1, transparentRetries: cap,
            timeRemaining: .seconds(30), budget: budget, using: &generator
        )
        guard case .retry(let delay, false) = first else {
            Issue.record("expected a counted retry, got \(first)")
            return
        }
        #expect(delay <= .seconds(1))
        #expect(budget.tokens == 9)
        let exhausted = policy.decision(
            after: .notSent, safety: .nonIdempotentWrite, attempts: cap + 4, transparentRetries: cap,
            timeRemaining: .seconds(30), budget: budget, using: &generator
        )
        #expect(exhausted == .stop(.retriesExhausted))
    }

    @Test("permanent failures are never retried, even with a pushback delay", arguments: CallSafety.allCases)
    func permanentNeverRetried(safety: CallSafety) {
        let budget = RetryBudget()
        let decision = policy.decision(
            after: .permanent, safety: safety, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(30), pushback: .delay(.milliseconds(10)), budget: budget
        )
        #expect(decision == .stop(.notRetryable))
        #expect(budget.tokens == 10, "a failure that is not retryable costs no token")
    }

    @Test("maxRetries bounds the counted retries", arguments: [0, 1, 3, 10])
    func maxRetries(maxRetries: Int) {
        let policy = RetryPolicy(maxRetries: maxRetries)
        var generator = SplitMix64(seed: 11)
        var attempts = 1
        while case .retry = policy.decision(
            after: .unavailable, safety: .idempotent, attempts: attempts, transparentRetries: 0,
            timeRemaining: .seconds(3600), using: &generator
        ) {
            attempts += 1
        }
        #expect(attempts == maxRetries + 1, "first attempt plus maxRetries retries")
        #expect(policy.decision(
            after: .unavailable, safety: .idempotent, attempts: attempts, transparentRetries: 0,
            timeRemaining: .seconds(3600)
        ) == .stop(.retriesExhausted))
    }

    @Test("the defaults match the design")
    func defaults() {
        #expect(policy.maxRetries == 3)
        #expect(policy.backoffBase == .seconds(1))
        #expect(policy.backoffCap == .seconds(10))
        #expect(RetryPolicy.maxRetriesRange == 0...10)
    }
}
