import BridgeResilience
import Testing

@Suite("Retry policy: backoff, pushback, deadline, budget")
struct RetryBackoffTests {
    let policy = RetryPolicy(maxRetries: 10, backoffBase: .seconds(1), backoffCap: .seconds(10))

    /// The delay of a counted retry after `retriesMade` earlier retries, with plenty of time left.
    func delay(afterRetries retriesMade: Int, using generator: inout SplitMix64) -> Duration? {
        let decision = policy.decision(
            after: .unavailable, safety: .idempotent, attempts: retriesMade + 1, transparentRetries: 0,
            timeRemaining: .seconds(3600), using: &generator
        )
        guard case .retry(let delay, false) = decision else {
            return nil
        }
        return delay
    }

    @Test("the ceiling is min(cap, base · 2^n)")
    func ceilings() {
        let ceilings = (0..<8).map { policy.backoffCeiling(forRetry: $0) }
        #expect(ceilings == [1, 2, 4, 8, 10, 10, 10, 10].map { Duration.seconds($0) })
        #expect(policy.backoffCeiling(forRetry: 200) == .seconds(10), "large exponents do not overflow")
        let fine = RetryPolicy(backoffBase: .milliseconds(100), backoffCap: .milliseconds(250))
        #expect((0..<3).map { fine.backoffCeiling(forRetry: $0) } == [.milliseconds(100), .milliseconds(200), .milliseconds(250)])
    }

    @Test("full jitter: 10,000 draws stay in [0, ceiling] and average about half the ceiling", arguments: 0..<6)
    func fullJitter(retriesMade: Int) throws {
        var generator = SplitMix64(seed: UInt64(retriesMade) + 100)
        let ceiling = policy.backoffCeiling(forRetry: retriesMade)
        var total = Duration.zero
        var smallest = ceiling
        var largest = Duration.zero
        for _ in 0..<10_000 {
            let drawn = try #require(delay(afterRetries: retriesMade, using: &generator))
            #expect(drawn >= .zero && drawn <= ceiling)
            total += drawn
            smallest = min(smallest, drawn)
            largest = max(largest, drawn)
        }
        let meanFraction = (total / 10_000) / ceiling
        #expect(abs(meanFraction - 0.5) < 0.02, "mean is \(meanFraction) of the ceiling")
        #expect(smallest < ceiling * 0.01, "draws reach down to near zero (full jitter, not equal jitter)")
        #expect(largest > ceiling * 0.99, "draws reach up to the ceiling")
    }

    @Test("the system random source is used when none is injected")
    func systemRandom() {
        var distinct = Set<Duration>()
        for _ in 0..<20 {
            if case .retry(let delay, false) = policy.decision(
                after: .aborted, safety: .idempotent, attempts: 1, transparentRetries: 0, timeRemaining: .seconds(60)
            ) {
                #expect(delay <= .seconds(1))
                distinct.insert(delay)
            }
        }
        #expect(distinct.count > 1)
    }

    @Test("a pushback delay replaces the computed backoff, even above the cap")
    func pushbackDelay() {
        #expect(policy.decision(
            after: .resourceExhausted, safety: .idempotent, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(60), pushback: .delay(.milliseconds(2500))
        ) == .retry(after: .milliseconds(2500), transparent: false))
        #expect(policy.decision(
            after: .unavailable, safety: .idempotent, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(60), pushback: .delay(.seconds(30))
        ) == .retry(after: .seconds(30), transparent: false))
    }

    @Test("a pushback of 'stop' stops, whatever the failure")
    func pushbackStop() {
        for failure in FailureClass.allCases {
            #expect(policy.decision(
                after: failure, safety: .idempotent, attempts: 1, transparentRetries: 0,
                timeRemaining: .seconds(60), pushback: .stop
            ) == .stop(.serverPushback))
        }
    }

    @Test("a pushback delay does not make a non-retryable failure retryable")
    func pushbackDoesNotWidenSafety() {
        #expect(policy.decision(
            after: .unavailable, safety: .nonIdempotentWrite, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(60), pushback: .delay(.milliseconds(1))
        ) == .stop(.notRetryable))
    }

    @Test("a delay that reaches the deadline stops the call instead")
    func deadlineClipping() {
        func decide(_ pushback: Duration, remaining: Duration) -> RetryDecision {
            policy.decision(
                after: .unavailable, safety: .idempotent, attempts: 1, transparentRetries: 0,
                timeRemaining: remaining, pushback: .delay(pushback)
            )
        }
        #expect(decide(.milliseconds(999), remaining: .seconds(1)) == .retry(after: .milliseconds(999), transparent: false))
        #expect(decide(.seconds(1), remaining: .seconds(1)) == .stop(.deadline))
        #expect(decide(.seconds(2), remaining: .seconds(1)) == .stop(.deadline))
    }

    @Test("jittered delays are never at or past the deadline")
    func jitterClipping() {
        var generator = SplitMix64(seed: 5)
        var retried = 0
        var stopped = 0
        for _ in 0..<1_000 {
            switch policy.decision(
                after: .unavailable, safety: .idempotent, attempts: 2, transparentRetries: 0,
                timeRemaining: .milliseconds(500), using: &generator
            ) {
            case .retry(let delay, _):
                #expect(delay < .milliseconds(500))
                retried += 1
            case .stop(let reason):
                #expect(reason == .deadline)
                stopped += 1
            }
        }
        // The ceiling is 2 s and 0.5 s remain: about a quarter of the draws fit.
        #expect(retried > 150 && retried < 350)
        #expect(retried + stopped == 1_000)
    }

    @Test("no time left stops every call, even a transparent retry")
    func noTimeLeft() {
        for remaining in [Duration.zero, .milliseconds(-5)] {
            #expect(policy.decision(
                after: .notSent, safety: .idempotent, attempts: 1, transparentRetries: 0, timeRemaining: remaining
            ) == .stop(.deadline))
        }
    }

    @Test("the budget stops retries once half of it is spent, and each retryable failure costs a token")
    func budgetStopsRetries() {
        let budget = RetryBudget()
        var outcomes: [RetryDecision] = []
        for _ in 0..<6 {
            outcomes.append(policy.decision(
                after: .unavailable, safety: .idempotent, attempts: 1, transparentRetries: 0,
                timeRemaining: .seconds(60), pushback: .delay(.milliseconds(1)), budget: budget
            ))
        }
        let retry = RetryDecision.retry(after: .milliseconds(1), transparent: false)
        #expect(outcomes == [retry, retry, retry, retry, .stop(.budgetExhausted), .stop(.budgetExhausted)])
        #expect(budget.tokens == 4)

        for _ in 0..<11 {
            budget.recordSuccess()
        }
        #expect(budget.tokens == 5.1)
        #expect(policy.decision(
            after: .unavailable, safety: .idempotent, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(60), pushback: .delay(.milliseconds(1)), budget: budget
        ) == .stop(.budgetExhausted), "the failure itself costs a token first: 4.1 left")
    }

    @Test("a failure past maxRetries still costs a budget token")
    func exhaustedRetriesStillCost() {
        let budget = RetryBudget()
        #expect(RetryPolicy(maxRetries: 0).decision(
            after: .unavailable, safety: .idempotent, attempts: 1, transparentRetries: 0,
            timeRemaining: .seconds(60), budget: budget
        ) == .stop(.retriesExhausted))
        #expect(budget.tokens == 9)
    }
}
