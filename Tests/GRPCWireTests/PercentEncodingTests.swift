@testable import GRPCWire
import Testing

@Suite struct PercentEncodingTests {
    @Test func printableASCIIPassesExceptPercent() {
        #expect(PercentEncoding.encode("no proof for day 5") == "no proof for day 5")
        #expect(PercentEncoding.encode("100%") == "100%25")
        #expect(PercentEncoding.encode("a\nb") == "a%0Ab")
        #expect(PercentEncoding.encode("Grüße") == "Gr%C3%BC%C3%9Fe")
    }

    @Test func decodesEscapesInAnyCase() {
        #expect(PercentEncoding.decode("Gr%C3%BC%c3%9Fe") == "Grüße")
        #expect(PercentEncoding.decode("100%25") == "100%")
        #expect(PercentEncoding.decode("plain") == "plain")
    }

    @Test func badEscapesAreKeptAsTheyAre() {
        #expect(PercentEncoding.decode("50%") == "50%")
        #expect(PercentEncoding.decode("%zz and %4") == "%zz and %4")
        #expect(PercentEncoding.decode("%%41") == "%A")
        #expect(PercentEncoding.decode("%FF") == "\u{FFFD}")
    }

    @Test func roundTripsArbitraryText() {
        for text in ["", "a b c", "tab\there", "emoji 🎻", "%%%", "~!@#$^&*()"] {
            #expect(PercentEncoding.decode(PercentEncoding.encode(text)) == text)
        }
    }
}
