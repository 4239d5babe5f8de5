import BridgeResilience
import Testing

@Suite("Retry budget (gRPC retry throttling)")
struct RetryBudgetTests {
    @Test("starts full with gRPC's defaults")
    func defaults() {
        let budget = RetryBudget()
        #expect(budget.maxTokens == 10)
        #expect(budget.tokenRatio == 0.1)
        #expect(budget.tokens == 10)
        #expect(budget.canRetry)
    }

    @Test("each failure costs one token; retries stop at half (strictly more than half is needed)")
    func exhaustion() {
        let budget = RetryBudget()
        var history: [(Double, Bool)] = []
        for _ in 0..<6 {
            budget.recordFailure()
            history.append((budget.tokens, budget.canRetry))
        }
        #expect(history.map(\.0) == [9, 8, 7, 6, 5, 4])
        #expect(history.map(\.1) == [true, true, true, true, false, false])
    }

    @Test("each success refills a tenth of a token, exactly, up to the maximum")
    func refill() {
        let budget = RetryBudget()
        for _ in 0..<5 {
            budget.recordFailure()
        }
        #expect(!budget.canRetry)
        budget.recordSuccess()
        #expect(budget.tokens == 5.1)
        #expect(budget.canRetry)
        for _ in 0..<48 {
            budget.recordSuccess()
        }
        #expect(budget.tokens == 9.9)
        budget.recordSuccess()
        budget.recordSuccess()
        #expect(budget.tokens == 10, "capped at maxTokens")
    }

    @Test("tokens never go below zero")
    func floor() {
        let budget = RetryBudget()
        for _ in 0..<25 {
            budget.recordFailure()
        }
        #expect(budget.tokens == 0)
        budget.recordSuccess()
        #expect(budget.tokens == 0.1)
    }

    @Test("custom capacity and ratio")
    func custom() {
        let budget = RetryBudget(maxTokens: 3, tokenRatio: 0.5)
        budget.recordFailure()
        #expect(budget.tokens == 2)
        #expect(budget.canRetry, "2 > 1.5")
        budget.recordFailure()
        #expect(!budget.canRetry, "1 ≤ 1.5")
        budget.recordSuccess()
        #expect(budget.tokens == 1.5)
        #expect(!budget.canRetry, "1.5 is not more than half")
        budget.recordSuccess()
        #expect(budget.tokens == 2)
        #expect(budget.canRetry)
    }

    @Test("concurrent updates lose nothing")
    func concurrency() async {
        let budget = RetryBudget()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<1_000 {
                group.addTask { budget.recordFailure() }
            }
        }
        #expect(budget.tokens == 0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<99 {
                group.addTask { budget.recordSuccess() }
            }
        }
        #expect(budget.tokens == 9.9)
    }
}
