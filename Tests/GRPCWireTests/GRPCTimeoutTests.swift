@testable import GRPCWire
import Testing

@Suite struct GRPCTimeoutTests {
    @Test(arguments: [
        (Duration.nanoseconds(1), "1n"), (.nanoseconds(99_999_999), "99999999n"),
        (.nanoseconds(100_000_000), "100000u"), (.milliseconds(300), "300000u"),
        (.seconds(30), "30000000u"), (.seconds(100), "100000m"), (.seconds(100_000), "100000S"),
        (.seconds(100_000_000), "1666667M"), (.seconds(360_000_000_000), "2562048H"),
    ])
    func encodesWithTheFinestUnitThatFits(_ timeout: Duration, _ expected: String) {
        #expect(GRPCTimeout.encode(timeout) == expected)
    }

    @Test func neverZeroAndRoundsUp() {
        #expect(GRPCTimeout.encode(.zero) == "1n")
        #expect(GRPCTimeout.encode(.seconds(-5)) == "1n")
        #expect(GRPCTimeout.encode(.nanoseconds(100_000_001)) == "100001u")
    }

    @Test func everyEncodingHasAtMostEightDigitsAndParsesBackNoShorter() {
        var value: Int64 = 1
        while value < Int64(1) << 55 {
            let duration = Duration.nanoseconds(value)
            let text = GRPCTimeout.encode(duration)
            #expect(text.dropLast().count <= 8 && text.dropLast().count >= 1, "\(text)")
            let parsed = GRPCTimeout.parse(text)
            #expect(parsed != nil && parsed! >= duration, "\(value) -> \(text)")
            value = value * 3 + 7
        }
    }

    @Test func parseRejectsMalformedValues() {
        #expect(GRPCTimeout.parse("10S") == .seconds(10))
        #expect(GRPCTimeout.parse("5H") == .seconds(18000))
        for bad in ["", "S", "10", "10x", "123456789S", "-1S", "1.5S", " 1S"] {
            #expect(GRPCTimeout.parse(bad) == nil, "\(bad)")
        }
    }
}
