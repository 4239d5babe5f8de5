@testable import ConductorGRPC
import Foundation
import Testing

/// The contract's JSON bodies, read leniently as proto3 JSON and written as the contract says.
@Suite struct RESTJSONTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func anEventIsWrittenWithProtoNamesAndPaddedBase64() throws {
        let event = ConductorEvent(eventType: "order.created", epoch: 7, payload: [0xFF, 0x00, 0x01, 0x02],
                                   metadata: ["b": "2", "a": "1"])
        let json = try object(RESTJSON.encode(event))
        #expect(json["event_type"] as? String == "order.created")
        #expect(json["epoch"] as? Int == 7)
        #expect(json["payload"] as? String == "/wABAg==")
        #expect(json["metadata"] as? [String: String] == ["a": "1", "b": "2"])
        let empty = try object(RESTJSON.encode(ConductorEvent(eventType: "", epoch: 0)))
        #expect(empty["payload"] as? String == "")
    }

    @Test func aBatchIsAnArrayOfEventsInOrder() throws {
        let events = (0..<3).map { ConductorEvent(eventType: "t\($0)", epoch: Int32($0)) }
        let array = try #require(try JSONSerialization.jsonObject(with: Data(RESTJSON.encode(batch: events))) as? [[String: Any]])
        #expect(array.map { $0["event_type"] as? String } == ["t0", "t1", "t2"])
    }

    @Test func aDayProofReadsNumbersOrNumericStringsIgnoresUnknownFieldsAndDefaultsMissingOnes() throws {
        let proof = try RESTJSON.decodeDayProof(bytes(
            #"{"day_number":"42","proof":"p","proof_hash":"h","canonical":true,"source":null,"added_later":[1,2]}"#))
        #expect(proof == DayProof(dayNumber: 42, proof: "p", proofHash: "h", canonical: true, source: ""))
        let sparse = try RESTJSON.decodeDayProof(bytes(#"{"day_number":3.0}"#))
        #expect(sparse == DayProof(dayNumber: 3, proof: "", proofHash: "", canonical: false, source: ""))
    }

    @Test func mismatchesNameTheField() {
        func explanation(_ text: String) -> String? {
            do {
                _ = try RESTJSON.decodeDayProof(bytes(text))
                return nil
            } catch {
                return error.explanation
            }
        }
        #expect(explanation(#"{"day_number":"x"}"#)?.contains("DayProof.day_number is not an integral number") == true)
        #expect(explanation(#"{"day_number":2.5}"#)?.contains("DayProof.day_number is not an integral number") == true)
        #expect(explanation(#"{"day_number":4294967296}"#)?.contains("DayProof.day_number = 4294967296 is out of the int32 range") == true)
        #expect(explanation(#"{"day_number":99999999999999999999}"#) == "DayProof.day_number = 99999999999999999999 is out of the int32 range")
        #expect(explanation(#"{"day_number":1e400}"#) == "DayProof.day_number = 1e400 is out of the int32 range")
        #expect(explanation(#"{"day_number":"1e2"}"#) == "DayProof.day_number is not an integral number")
        #expect(explanation(#"{"day_number":1,"proof":"ab"#) == "the body is not JSON (parse error: premature EOF, at byte 27); expected a DayProof object")
        #expect(explanation("") == "the body is not JSON (parse error: premature EOF, at byte 0); expected a DayProof object")
        #expect(explanation(#"{"canonical":"yes"}"#)?.contains("DayProof.canonical is not a boolean") == true)
        #expect(explanation(#"{"proof":7}"#)?.contains("DayProof.proof is not a string") == true)
        #expect(explanation(#"[1]"#)?.contains("DayProof is not a JSON object") == true)
        #expect(explanation("<html>oops</html>") == "the body is not JSON (lexical error: invalid char in json text, at byte 1); expected a DayProof object")
    }

    @Test func receiptsMustBeOnePerEventInOrder() throws {
        let receipts = try RESTJSON.decodeReceipts(bytes(#"[{"event_hash":"a","epoch":1},{"event_hash":"b","epoch":"2"}]"#), count: 2)
        #expect(receipts == [ConductorReceipt(eventHash: "a", epoch: 1), ConductorReceipt(eventHash: "b", epoch: 2)])
        #expect(throws: RESTJSON.Mismatch.self) { try RESTJSON.decodeReceipts(bytes(#"[{"event_hash":"a"}]"#), count: 2) }
        do {
            _ = try RESTJSON.decodeReceipts(bytes(#"[{"event_hash":1}]"#), count: 1)
            Issue.record("a receipt whose hash is a number was accepted")
        } catch {
            #expect(error.explanation == "[0].event_hash is not a string")
        }
    }

    @Test func textSurvivesTheRoundTripIncludingUnicodeAndNUL() throws {
        let event = ConductorEvent(eventType: "émoji 🎉 \u{0}end", epoch: -1, metadata: ["k\u{0}": "v\u{0}"])
        let json = try object(RESTJSON.encode(event))
        #expect(json["event_type"] as? String == "émoji 🎉 \u{0}end")
        #expect(json["epoch"] as? Int == -1)
        #expect(json["metadata"] as? [String: String] == ["k\u{0}": "v\u{0}"])
        let proof = try RESTJSON.decodeDayProof(bytes(#"{"proof":"a\u0000b","source":"\u00e9\ud83c\udf89","day_number":-5}"#))
        #expect(proof.proof == "a\u{0}b")
        #expect(proof.source == "é🎉")
        #expect(proof.dayNumber == -5)
    }

    /// Fields nested deeper than the contract's, unknown ones included, are skipped whatever they
    /// hold; a field that holds a container where a scalar belongs is named.
    @Test func nestedValuesAreSkippedOrNamed() throws {
        let proof = try RESTJSON.decodeDayProof(bytes(
            #"{"extra":{"proof":"not this","day_number":[9]},"day_number":2,"more":[{"proof":"nor this"}],"proof":"p"}"#))
        #expect(proof == DayProof(dayNumber: 2, proof: "p", proofHash: "", canonical: false, source: ""))
        #expect(throws: RESTJSON.Mismatch.self) { try RESTJSON.decodeDayProof(bytes(#"{"proof":{"a":1}}"#)) }
        do {
            _ = try RESTJSON.decodeReceipts(bytes(#"[{"event_hash":"a","epoch":1},7]"#), count: 2)
            Issue.record("an array element that is not an object was accepted")
        } catch {
            #expect(error.explanation == "[1] is not a JSON object")
        }
        #expect(RESTJSON.errorMessage(bytes(#"{"message":"m","nested":{"detail":"no"}}"#)) == "m")
        #expect(RESTJSON.errorMessage(bytes(#"{"detail":"d","message":"m"}"#)) == "d")
        #expect(!RESTJSON.isJSONObjectOrArray(bytes(#"{"a":1"#)) && !RESTJSON.isJSONObjectOrArray(bytes(#"{"a":1} x"#)))
        #expect(RESTJSON.isJSONObjectOrArray(bytes(#" {"detail":"no proof"} "#)) && RESTJSON.isJSONObjectOrArray(bytes("[]")))
        #expect(!RESTJSON.isJSONObjectOrArray(bytes(#""Not Found""#)) && !RESTJSON.isJSONObjectOrArray(bytes("null")),
                "a bare scalar is not a conductor's answer")
    }
}
