import CYajl
import GRPCWire

#if canImport(Glibc)
import Glibc
#endif

/// The REST contract's JSON bodies (conductor-rest-contract.md, "JSON bodies"), with yajl:
/// proto field names, `payload` as padded standard base64; on read, unknown fields are ignored,
/// a missing or null field takes the proto3 default, and integers may be numbers or numeric strings.
/// (Package access: the fuzz target reads server answers with it.)
package enum RESTJSON {
    /// A body that does not match the contract; `explanation` names the field.
    package struct Mismatch: Error {
        package var explanation: String
    }

    // MARK: Writing

    package static func encode(_ event: ConductorEvent) -> [UInt8] {
        generate { writeEvent(event, to: $0) }
    }

    package static func encode(batch events: [ConductorEvent]) -> [UInt8] {
        generate { generator in
            yajl_gen_array_open(generator)
            for event in events { writeEvent(event, to: generator) }
            yajl_gen_array_close(generator)
        }
    }

    private static func writeEvent(_ event: ConductorEvent, to generator: yajl_gen) {
        yajl_gen_map_open(generator)
        write("event_type", to: generator)
        write(event.eventType, to: generator)
        write("epoch", to: generator)
        yajl_gen_integer(generator, Int64(event.epoch))
        write("payload", to: generator)
        write(Base64.encodePadded(event.payload), to: generator)
        write("metadata", to: generator)
        yajl_gen_map_open(generator)
        for (key, value) in event.metadata.sorted(by: { $0.key < $1.key }) {
            write(key, to: generator)
            write(value, to: generator)
        }
        yajl_gen_map_close(generator)
        yajl_gen_map_close(generator)
    }

    /// A JSON string (a key or a value) of any Swift string: yajl takes UTF-8 with its length, so
    /// NULs survive (written as `\u0000`).
    private static func write(_ text: String, to generator: yajl_gen) {
        var text = text
        text.withUTF8 { bytes in
            guard let start = bytes.baseAddress else {
                yajl_gen_string(generator, "", 0)
                return
            }
            yajl_gen_string(generator, start, bytes.count)
        }
    }

    private static func generate(_ body: (yajl_gen) -> Void) -> [UInt8] {
        guard let generator = yajl_gen_alloc(nil) else { preconditionFailure("yajl_gen_alloc: out of memory") }
        defer { yajl_gen_free(generator) }
        body(generator)
        var text: UnsafePointer<UInt8>?
        var length = 0
        yajl_gen_get_buf(generator, &text, &length)
        return Array(UnsafeBufferPointer(start: text, count: length))
    }

    // MARK: Reading

    private static let dayProofFields = ["day_number", "proof", "proof_hash", "canonical", "source"].map { Array($0.utf8) }
    private static let receiptFields = ["event_hash", "epoch"].map { Array($0.utf8) }
    private static let errorFields = ["detail", "message"].map { Array($0.utf8) }

    package static func decodeDayProof(_ body: [UInt8]) throws(Mismatch) -> DayProof {
        let scan = try parse(body, wanted: dayProofFields, expecting: "a DayProof object")
        let object = try Object.only(scan, path: "DayProof")
        return DayProof(
            dayNumber: try object.int32(0), proof: try object.string(1), proofHash: try object.string(2),
            canonical: try object.bool(3), source: try object.string(4))
    }

    package static func decodeReceipt(_ body: [UInt8]) throws(Mismatch) -> ConductorReceipt {
        let scan = try parse(body, wanted: receiptFields, expecting: "a Receipt object")
        return try receipt(Object.only(scan, path: "Receipt"))
    }

    package static func decodeReceipts(_ body: [UInt8], count: Int) throws(Mismatch) -> [ConductorReceipt] {
        let scan = try parse(body, wanted: receiptFields, expecting: "an array of Receipt")
        guard scan.shape == .array else { throw Mismatch(explanation: "the body is not an array of Receipt") }
        guard scan.objects.count == count else {
            throw Mismatch(explanation: "the body holds \(scan.objects.count) receipts for \(count) events")
        }
        var receipts: [ConductorReceipt] = []
        receipts.reserveCapacity(count)
        for (index, fields) in scan.objects.enumerated() {
            let path = "[\(index)]"
            guard let fields else { throw Mismatch(explanation: "\(path) is not a JSON object") }
            receipts.append(try receipt(Object(fields: fields, path: path, names: receiptFields)))
        }
        return receipts
    }

    /// The `detail` or `message` string of an error body, when it is JSON with one.
    package static func errorMessage(_ body: [UInt8]) -> String? {
        guard let scan = try? RESTJSONScan.scan(body, wanted: errorFields), scan.shape == .object,
              let fields = scan.objects.first ?? nil else { return nil }
        for value in fields {
            if case .string(let text)? = value { return text }
        }
        return nil
    }

    /// Whether the body is a JSON object or array: what a conductor's answer is. A bare scalar
    /// (`"Not Found"`, `null`) is JSON too, but not one a conductor sends.
    package static func isJSONObjectOrArray(_ body: [UInt8]) -> Bool {
        guard let scan = try? RESTJSONScan.scan(body, wanted: []) else { return false }
        return scan.shape != .other
    }

    private static func receipt(_ object: Object) throws(Mismatch) -> ConductorReceipt {
        ConductorReceipt(eventHash: try object.string(0), epoch: try object.int32(1))
    }

    private static func parse(_ body: [UInt8], wanted: [[UInt8]], expecting: String) throws(Mismatch) -> RESTJSONScan {
        do {
            return try RESTJSONScan.scan(body, wanted: wanted)
        } catch {
            throw Mismatch(explanation: "the body is not JSON (\(error.reason), at byte \(error.position)); expected \(expecting)")
        }
    }

    /// The wanted fields of one object, with its path for error messages. The path of a field is
    /// joined only for a message: a call that reads five fields makes no strings.
    private struct Object {
        let fields: [RESTJSONScan.Value?]
        let path: String
        let names: [[UInt8]]

        /// The top-level object of a scan.
        static func only(_ scan: RESTJSONScan, path: String) throws(Mismatch) -> Object {
            guard scan.shape == .object, let fields = scan.objects.first ?? nil else {
                throw Mismatch(explanation: "\(path) is not a JSON object")
            }
            return Object(fields: fields, path: path, names: scan.wanted)
        }

        private func mismatch(_ index: Int, _ problem: String) -> Mismatch {
            Mismatch(explanation: "\(path).\(String(decoding: names[index], as: UTF8.self))\(problem)")
        }

        /// Missing and `null` read as the default.
        func string(_ index: Int) throws(Mismatch) -> String {
            switch fields[index] {
            case nil, .null?: return ""
            case .string(let text)?: return text
            default: throw mismatch(index, " is not a string")
            }
        }

        func bool(_ index: Int) throws(Mismatch) -> Bool {
            switch fields[index] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            default: throw mismatch(index, " is not a boolean")
            }
        }

        /// An int32 from a JSON integer, an integral real, or a numeric string (proto3 JSON).
        func int32(_ index: Int) throws(Mismatch) -> Int32 {
            let text: String
            switch fields[index] {
            case nil, .null?: return 0
            case .number(let number)?: text = number
            case .string(let number)?: text = number
            default: throw mismatch(index, " is not an integer")
            }
            if let wide = Int64(text) {
                guard let narrow = Int32(exactly: wide) else { throw mismatch(index, " = \(wide) is out of the int32 range") }
                return narrow
            }
            // A JSON number that is integral in another form (3.0, 1e2), or too large for 64 bits.
            guard case .number? = fields[index], let real = Double(text), real.rounded() == real else {
                throw mismatch(index, " is not an integral number")
            }
            guard let narrow = Int32(exactly: real) else { throw mismatch(index, " = \(text) is out of the int32 range") }
            return narrow
        }
    }
}
