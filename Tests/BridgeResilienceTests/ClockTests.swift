import BridgeResilience
import Testing

@Suite("Clocks and instants")
struct ClockTests {
    @Test("instant arithmetic is exact to the nanosecond")
    func instantArithmetic() {
        let start = MonotonicInstant(nanoseconds: 1_000)
        let later = start + .milliseconds(1500)
        #expect(later.nanoseconds == 1_500_001_000)
        #expect(later - start == .milliseconds(1500))
        #expect(start - later == .milliseconds(-1500))
        #expect(start.duration(to: later) == .nanoseconds(1_500_000_000))
        #expect(start < later)
        #expect(start.advanced(by: .nanoseconds(-1_000)) == MonotonicInstant(nanoseconds: 0))
    }

    @Test("instant arithmetic saturates instead of trapping")
    func instantSaturation() {
        let nearEnd = MonotonicInstant(nanoseconds: .max - 10)
        #expect((nearEnd + .seconds(1)).nanoseconds == .max)
        #expect((nearEnd + .seconds(Int64.max)).nanoseconds == .max)
        let nearStart = MonotonicInstant(nanoseconds: .min + 10)
        #expect((nearStart + .seconds(-1)).nanoseconds == .min)
        #expect(nearStart - nearEnd == .nanoseconds(Int64.min))
    }

    @Test("the manual clock moves only when advanced")
    func manualClock() {
        let clock = ManualResilienceClock(start: MonotonicInstant(nanoseconds: 42))
        #expect(clock.now() == MonotonicInstant(nanoseconds: 42))
        #expect(clock.now() == MonotonicInstant(nanoseconds: 42))
        clock.advance(by: .seconds(2))
        #expect(clock.now() == MonotonicInstant(nanoseconds: 2_000_000_042))
        clock.advance(by: .zero)
        #expect(clock.now().nanoseconds == 2_000_000_042)
    }

    @Test("the manual clock is safe to advance from many tasks")
    func manualClockConcurrency() async {
        let clock = ManualResilienceClock()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { clock.advance(by: .milliseconds(10)) }
            }
        }
        #expect(clock.now() == MonotonicInstant(nanoseconds: 1_000_000_000))
    }

    @Test("the system clock never goes backwards and shares one timeline")
    func systemClock() {
        let first = SystemResilienceClock()
        let second = SystemResilienceClock()
        var previous = first.now()
        for index in 0..<10_000 {
            let current = index.isMultiple(of: 2) ? first.now() : second.now()
            #expect(current >= previous)
            previous = current
        }
        #expect(previous.nanoseconds > 0)
    }
}
