import BridgeResilience
import Synchronization
import Testing

@Suite("Circuit breaker under concurrency", .timeLimit(.minutes(1)))
struct CircuitBreakerConcurrencyTests {
    /// Opens a breaker with threshold 1 and lets its open duration elapse.
    func halfOpenReadyBreaker(probeLimit: Int, clock: ManualResilienceClock) throws -> CircuitBreaker {
        let breaker = CircuitBreaker(
            configuration: CircuitBreakerConfiguration(failureThreshold: 1, halfOpenProbeLimit: probeLimit),
            clock: clock
        )
        let permit = try #require(breaker.tryAcquire().permit)
        breaker.record(.failure, for: permit)
        clock.advance(by: .seconds(60))
        return breaker
    }

    /// 100 concurrent callers race for the probe slots; returns the permits admitted.
    func race(_ breaker: CircuitBreaker, callers: Int = 100) async -> [CircuitBreakerPermit] {
        let start = Gate()
        return await withTaskGroup(of: CircuitBreakerPermit?.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    await start.wait()
                    return breaker.tryAcquire().permit
                }
            }
            start.open()
            var admitted: [CircuitBreakerPermit] = []
            for await permit in group {
                if let permit {
                    admitted.append(permit)
                }
            }
            return admitted
        }
    }

    @Test("half-open admits exactly probeLimit of 100 concurrent callers", arguments: [1, 3, 10])
    func probeLimitUnderContention(probeLimit: Int) async throws {
        let clock = ManualResilienceClock()
        let breaker = try halfOpenReadyBreaker(probeLimit: probeLimit, clock: clock)
        let admitted = await race(breaker)
        #expect(admitted.count == probeLimit)
        #expect(admitted.allSatisfy { $0.isProbe })
        #expect(breaker.state == .halfOpen)
        #expect(breaker.snapshot.probesInFlight == probeLimit)

        for permit in admitted {
            breaker.record(.ignored, for: permit)
        }
        #expect(breaker.snapshot.probesInFlight == 0)
        let second = await race(breaker)
        #expect(second.count == probeLimit, "ignored probes gave their slots back")
    }

    @Test("the first of several concurrent probe results decides")
    func concurrentProbeResults() async throws {
        let clock = ManualResilienceClock()
        let breaker = try halfOpenReadyBreaker(probeLimit: 3, clock: clock)
        let probes = await race(breaker)
        #expect(probes.count == 3)
        breaker.record(.success, for: probes[0])
        breaker.record(.failure, for: probes[1])
        breaker.record(.failure, for: probes[2])
        #expect(breaker.state == .closed, "failures of probes from the closed generation are ignored")
    }

    @Test("concurrent failures open the breaker exactly once")
    func concurrentFailures() async {
        let transitions = Recorder<CircuitBreakerTransition>()
        let breaker = CircuitBreaker(clock: ManualResilienceClock()) { transitions.append($0) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    if let permit = breaker.tryAcquire().permit {
                        breaker.record(.failure, for: permit)
                    }
                }
            }
        }
        #expect(breaker.state == .open)
        #expect(transitions.elements.map(\.reason) == [.consecutiveFailures])
    }
}
