import CYajl

/// One pass of yajl's event parser over a body, keeping what the contract's bodies are made of:
/// the named fields of the top-level object, or of each element of a top-level array. Values
/// inside those fields (an object or array where a scalar belongs) are skipped and recorded by
/// their kind only, so a message can say what was found; unknown fields cost nothing.
///
/// Why events and not a tree: a tree parser allocates every key and value (jansson spent
/// 32,000 instructions on a 190-byte DayProof); this pass, yajl included, about 6,000. Strings
/// keep their length, so a `\u0000` inside one survives.
final class RESTJSONScan {
    /// A field's value, as far as the contract needs it.
    enum Value {
        case null
        case bool(Bool)
        /// A number as written (proto3 integers may be any JSON number that is integral).
        case number(String)
        case string(String)
        case object
        case array
    }

    /// The top-level value's kind.
    enum Shape {
        case object, array, other
    }

    /// Where the body stopped being JSON: yajl's message and the byte it reached.
    struct Malformed: Error {
        var reason: String
        var position: Int
    }

    private(set) var shape = Shape.other
    /// The wanted fields of the top-level object (one entry), or of each array element (nil for
    /// an element that is not an object), in the order of `wanted`.
    private(set) var objects: [[Value?]?] = []

    /// The names the scan kept, in the order of its ``objects``' fields.
    let wanted: [[UInt8]]
    private var depth = 0
    /// The wanted index of the key just read at field level, or nil for a field nobody reads.
    private var field: Int?

    private init(wanted: [[UInt8]]) {
        self.wanted = wanted
    }

    /// Scans `body`, keeping the fields named `wanted` (later duplicates win, as in a map).
    static func scan(_ body: [UInt8], wanted: [[UInt8]]) throws(Malformed) -> RESTJSONScan {
        let scan = RESTJSONScan(wanted: wanted)
        let context = Unmanaged.passUnretained(scan).toOpaque()
        guard let handle = yajl_alloc(Callbacks.table.pointer, nil, context) else {
            preconditionFailure("yajl_alloc: out of memory")
        }
        defer { yajl_free(handle) }
        var status = body.withUnsafeBufferPointer { yajl_parse(handle, $0.baseAddress, $0.count) }
        var position = Int(yajl_get_bytes_consumed(handle))
        if status == yajl_status_ok {
            status = yajl_complete_parse(handle)
            position = body.count // the body ended too early (its count is not in yajl's)
        }
        guard status == yajl_status_ok else {
            let message = yajl_get_error(handle, 0, nil, 0)
            defer { yajl_free_error(handle, message) }
            let reason = message.map { String(cString: $0) } ?? "malformed"
            throw Malformed(reason: reason.withoutTrailingPunctuation, position: position)
        }
        return scan
    }

    // MARK: Events (depth counts the containers open around the event)

    /// Field level: inside the top-level object, or inside an object element of the top-level array.
    private var fieldDepth: Int { shape == .object ? 1 : 2 }

    private func record(_ value: Value) {
        if depth == 0 {
            shape = .other
        } else if shape == .array, depth == 1 {
            objects.append(nil) // an element that is not an object
        } else if depth == fieldDepth, let field, !objects.isEmpty {
            objects[objects.count - 1]?[field] = value // nothing for an element that is not an object
        }
    }

    private func open(_ kind: Value) {
        if depth == 0 {
            shape = kind == .object ? .object : .array
            if shape == .object { objects.append(Array(repeating: nil, count: wanted.count)) }
        } else if shape == .array, depth == 1 {
            objects.append(kind == .object ? Array(repeating: nil, count: wanted.count) : nil)
        } else {
            record(kind)
        }
        depth += 1
    }

    private func key(_ name: UnsafeBufferPointer<UInt8>) {
        guard depth == fieldDepth else { return }
        field = wanted.firstIndex { candidate in candidate.elementsEqual(name) }
    }

    private func close() {
        depth -= 1
    }

    /// yajl's callback table, made once: every callback finds its scan in the context pointer.
    private struct Callbacks: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<yajl_callbacks>

        static let table: Callbacks = {
            let pointer = UnsafeMutablePointer<yajl_callbacks>.allocate(capacity: 1)
            pointer.initialize(to: yajl_callbacks(
                yajl_null: { context in scan(context).record(.null); return 1 },
                yajl_boolean: { context, value in scan(context).record(.bool(value != 0)); return 1 },
                yajl_integer: nil,
                yajl_double: nil,
                yajl_number: { context, text, length in
                    let bytes = UnsafeRawBufferPointer(start: text, count: length)
                    scan(context).record(.number(String(decoding: bytes, as: UTF8.self)))
                    return 1
                },
                yajl_string: { context, text, length in
                    scan(context).record(.string(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)))
                    return 1
                },
                yajl_start_map: { context in scan(context).open(.object); return 1 },
                yajl_map_key: { context, text, length in scan(context).key(UnsafeBufferPointer(start: text, count: length)); return 1 },
                yajl_end_map: { context in scan(context).close(); return 1 },
                yajl_start_array: { context in scan(context).open(.array); return 1 },
                yajl_end_array: { context in scan(context).close(); return 1 }))
            return Callbacks(pointer: pointer)
        }()

        private static func scan(_ context: UnsafeMutableRawPointer?) -> RESTJSONScan {
            Unmanaged<RESTJSONScan>.fromOpaque(context!).takeUnretainedValue()
        }
    }
}

extension RESTJSONScan.Value: Equatable {}

extension String {
    /// yajl's message ends with a full stop and a newline, and goes inside a sentence of ours.
    fileprivate var withoutTrailingPunctuation: String {
        var text = self
        while let last = text.last, last.isNewline || last == "." { text.removeLast() }
        return text
    }
}
