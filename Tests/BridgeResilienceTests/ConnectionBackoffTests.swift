import BridgeResilience
import Testing

@Suite struct ConnectionBackoffTests {
    @Test func gRPCDefaultsGrowByOnePointSixUpToTheMaximum() {
        let backoff = ConnectionBackoff()
        #expect(backoff.ceiling(afterFailures: 1) == .seconds(1))
        #expect(backoff.ceiling(afterFailures: 2) == .milliseconds(1600))
        #expect(backoff.ceiling(afterFailures: 3) == .milliseconds(2560))
        #expect(backoff.ceiling(afterFailures: 11) == .seconds(110) || backoff.ceiling(afterFailures: 11) > .seconds(109))
        #expect(backoff.ceiling(afterFailures: 12) == .seconds(120))
        #expect(backoff.ceiling(afterFailures: 1000) == .seconds(120))
    }

    @Test func jitterStaysWithinTwentyPercent() {
        let backoff = ConnectionBackoff()
        var generator = SystemRandomNumberGenerator()
        var low = Duration.seconds(1000), high = Duration.zero
        for _ in 0..<10_000 {
            let delay = backoff.delay(afterFailures: 2, using: &generator)
            #expect(delay >= .milliseconds(1280) && delay <= .milliseconds(1920))
            low = min(low, delay)
            high = max(high, delay)
        }
        #expect(low < .milliseconds(1350) && high > .milliseconds(1850), "the whole range is used")
    }

    @Test func connectTimeoutIsAtLeastTheMinimum() {
        let backoff = ConnectionBackoff()
        #expect(backoff.connectTimeout(afterFailures: 0) == .seconds(20))
        #expect(backoff.connectTimeout(afterFailures: 3) == .seconds(20))
        #expect(backoff.connectTimeout(afterFailures: 20) == .seconds(120))
    }
}
