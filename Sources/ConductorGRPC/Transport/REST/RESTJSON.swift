import CJansson
import GRPCWire

#if canImport(Glibc)
import Glibc
#endif

/// The REST contract's JSON bodies (conductor-rest-contract.md, "JSON bodies"), with jansson:
/// proto field names, `payload` as padded standard base64; on read, unknown fields are ignored,
/// a missing or null field takes the proto3 default, and integers may be numbers or numeric strings.
enum RESTJSON {
    /// A body that does not match the contract; `explanation` names the field.
    struct Mismatch: Error {
        var explanation: String
    }

    // MARK: Writing

    static func encode(_ event: ConductorEvent) -> [UInt8] {
        let object = eventObject(event)
        defer { json_decref(object) }
        return dump(object)
    }

    static func encode(batch events: [ConductorEvent]) -> [UInt8] {
        let array = json_array()
        defer { json_decref(array) }
        for event in events { json_array_append_new(array, eventObject(event)) }
        return dump(array)
    }

    private static func eventObject(_ event: ConductorEvent) -> UnsafeMutablePointer<json_t>? {
        let object = json_object()
        json_object_set_new(object, "event_type", string(event.eventType))
        json_object_set_new(object, "epoch", json_integer(json_int_t(event.epoch)))
        json_object_set_new(object, "payload", string(Base64.encodePadded(event.payload)))
        let metadata = json_object()
        for (key, value) in event.metadata.sorted(by: { $0.key < $1.key }) {
            json_object_set_new(metadata, key, string(value))
        }
        json_object_set_new(object, "metadata", metadata)
        return object
    }

    /// A JSON string of any Swift string (jansson takes UTF-8 with its length: NULs survive).
    private static func string(_ text: String) -> UnsafeMutablePointer<json_t>? {
        var text = text
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                guard let start = characters.baseAddress else { return json_string("") }
                return json_stringn_nocheck(start, characters.count)
            }
        }
    }

    private static func dump(_ value: UnsafeMutablePointer<json_t>?) -> [UInt8] {
        guard let text = json_dumps(value, Int(JSON_COMPACT)) else { return [] }
        defer { free(text) }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }

    // MARK: Reading

    static func decodeDayProof(_ body: [UInt8]) throws(Mismatch) -> DayProof {
        let root = try parse(body, expecting: "a DayProof object")
        defer { json_decref(root) }
        let object = try Field(root, path: "DayProof").object()
        return DayProof(
            dayNumber: try object.field("day_number").int32(),
            proof: try object.field("proof").string(),
            proofHash: try object.field("proof_hash").string(),
            canonical: try object.field("canonical").bool(),
            source: try object.field("source").string())
    }

    static func decodeReceipt(_ body: [UInt8]) throws(Mismatch) -> ConductorReceipt {
        let root = try parse(body, expecting: "a Receipt object")
        defer { json_decref(root) }
        return try receipt(Field(root, path: "Receipt").object())
    }

    static func decodeReceipts(_ body: [UInt8], count: Int) throws(Mismatch) -> [ConductorReceipt] {
        let root = try parse(body, expecting: "an array of Receipt")
        defer { json_decref(root) }
        guard cjansson_type(root) == JSON_ARRAY else { throw Mismatch(explanation: "the body is not an array of Receipt") }
        let found = json_array_size(root)
        guard found == count else {
            throw Mismatch(explanation: "the body holds \(found) receipts for \(count) events")
        }
        var receipts: [ConductorReceipt] = []
        receipts.reserveCapacity(count)
        for index in 0..<found {
            receipts.append(try receipt(Field(json_array_get(root, index), path: "[\(index)]").object()))
        }
        return receipts
    }

    /// The `detail` or `message` string of an error body, when it is JSON with one.
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let root = try? parse(body, expecting: "") else { return nil }
        defer { json_decref(root) }
        guard cjansson_type(root) == JSON_OBJECT else { return nil }
        for key in ["detail", "message"] {
            if let value = json_object_get(root, key), cjansson_type(value) == JSON_STRING {
                return String(cString: json_string_value(value))
            }
        }
        return nil
    }

    /// Whether the body parses as JSON at all.
    static func isJSON(_ body: [UInt8]) -> Bool {
        guard let root = try? parse(body, expecting: "") else { return false }
        json_decref(root)
        return true
    }

    private static func receipt(_ object: Field) throws(Mismatch) -> ConductorReceipt {
        ConductorReceipt(eventHash: try object.field("event_hash").string(), epoch: try object.field("epoch").int32())
    }

    private static func parse(_ body: [UInt8], expecting: String) throws(Mismatch) -> UnsafeMutablePointer<json_t> {
        var error = json_error_t()
        let root = body.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { json_loadb($0.baseAddress, $0.count, 0, &error) }
        }
        guard let root else {
            let reason = withUnsafeBytes(of: error.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw Mismatch(explanation: "the body is not JSON (\(reason), at byte \(error.position)); expected \(expecting)")
        }
        return root
    }

    /// A value inside a parsed body, with its path for error messages (borrowed: the root owns it).
    /// The path is joined only for a message: a call that reads five fields makes no strings.
    private struct Field {
        let value: UnsafeMutablePointer<json_t>?
        private let parent: String
        private let name: String?

        init(_ value: UnsafeMutablePointer<json_t>?, path: String) {
            self.value = value
            parent = path
            name = nil
        }

        private init(_ value: UnsafeMutablePointer<json_t>?, parent: String, name: String) {
            self.value = value
            self.parent = parent
            self.name = name
        }

        private var path: String { name.map { parent + "." + $0 } ?? parent }

        /// Missing and `null` read as the default.
        private var isAbsent: Bool { value == nil || cjansson_type(value) == JSON_NULL }

        func object() throws(Mismatch) -> Field {
            guard cjansson_type(value) == JSON_OBJECT else { throw Mismatch(explanation: "\(path) is not a JSON object") }
            return self
        }

        func field(_ name: String) -> Field {
            Field(json_object_get(value, name), parent: path, name: name)
        }

        func string() throws(Mismatch) -> String {
            if isAbsent { return "" }
            guard cjansson_type(value) == JSON_STRING else { throw Mismatch(explanation: "\(path) is not a string") }
            let bytes = UnsafeRawBufferPointer(start: json_string_value(value), count: json_string_length(value))
            return String(decoding: bytes, as: UTF8.self)
        }

        func bool() throws(Mismatch) -> Bool {
            if isAbsent { return false }
            guard (cjansson_type(value) == JSON_TRUE || cjansson_type(value) == JSON_FALSE) else { throw Mismatch(explanation: "\(path) is not a boolean") }
            return cjansson_type(value) == JSON_TRUE
        }

        /// An int32 from a JSON integer, an integral real, or a numeric string (proto3 JSON).
        func int32() throws(Mismatch) -> Int32 {
            if isAbsent { return 0 }
            let wide: Int64?
            if cjansson_type(value) == JSON_INTEGER {
                wide = Int64(json_integer_value(value))
            } else if cjansson_type(value) == JSON_REAL {
                let real = json_real_value(value)
                wide = real.rounded() == real && abs(real) < 1e18 ? Int64(real) : nil
            } else if cjansson_type(value) == JSON_STRING {
                wide = Int64(String(cString: json_string_value(value)))
            } else {
                throw Mismatch(explanation: "\(path) is not an integer")
            }
            guard let wide else { throw Mismatch(explanation: "\(path) is not an integral number") }
            guard let narrow = Int32(exactly: wide) else { throw Mismatch(explanation: "\(path) = \(wide) is out of the int32 range") }
            return narrow
        }
    }
}
