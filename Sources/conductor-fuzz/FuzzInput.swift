import ConductorGRPC
import GRPCWire

#if canImport(Glibc)
import Glibc
#endif

/// The targets under test. A fuzz input's first byte selects one of the four decoders, unless
/// `CONDUCTOR_FUZZ_DECODER` pins a single target (then the first byte is skipped, so one corpus
/// serves every run). `server` (the fuzzer plays the server, see ``ServerPlay``) runs only pinned:
/// its corpus is `Fuzz/corpus-server`.
enum FuzzDecoder: String, CaseIterable {
    case frames, response, messages, json, server

    /// The targets a first byte chooses among (its value modulo their count).
    static let bySelector: [FuzzDecoder] = [.frames, .response, .messages, .json]

    /// The decoder pinned by `CONDUCTOR_FUZZ_DECODER`, or nil to choose by first byte.
    static let pinned: FuzzDecoder? = {
        guard let name = getenv("CONDUCTOR_FUZZ_DECODER").map({ String(cString: $0) }), !name.isEmpty else { return nil }
        guard let decoder = FuzzDecoder(rawValue: name) else {
            let allowed = allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("CONDUCTOR_FUZZ_DECODER=\(name): expected one of \(allowed)")
        }
        return decoder
    }()
}

/// One fuzz input, interpreted by the selected decoder. Every decoder must turn any input into a
/// value or an error: never crash, never hang, never read out of bounds.
enum FuzzInput {
    static func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let input = Array(bytes.dropFirst())
        let decoder = FuzzDecoder.pinned ?? FuzzDecoder.bySelector[Int(selector) % FuzzDecoder.bySelector.count]
        switch decoder {
        case .frames: decodeFrames(input)
        case .response: interpretResponse(input)
        case .messages: decodeMessages(input)
        case .json: decodeJSON(input)
        case .server: ServerPlay.run(input)
        }
    }

    /// The gRPC frame decoder, fed in pieces whose sizes come from the input itself.
    private static func decodeFrames(_ input: [UInt8]) {
        var decoder = GRPCMessageDecoder(maximumMessageLength: 1 << 16)
        var index = 0
        while index < input.count {
            let step = max(1, Int(input[index]) % 17)
            decoder.append(input[index..<min(input.count, index + step)])
            index += step
            while true {
                guard let message = try? decoder.next()?.message else { break }
                precondition(message.count <= 1 << 16, "a message above the limit was returned")
            }
        }
        _ = try? decoder.finish()
    }

    /// Headers, trailers and body built from the input, then the status interpretation.
    private static func interpretResponse(_ input: [UInt8]) {
        var reader = ByteReader(input)
        var headers: [(name: String, value: String)] = []
        var trailers: [(name: String, value: String)] = []
        let names = [":status", "content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-retry-pushback-ms", "x"]
        while let tag = reader.byte(), tag != 0xFF {
            let name = names[Int(tag) % names.count]
            let value = reader.string(length: Int(reader.byte() ?? 0) % 24)
            if tag & 0x80 == 0 { headers.append((name, value)) } else { trailers.append((name, value)) }
        }
        let outcomes: [HTTP2StreamResult.Outcome] = [.complete, .reset(errorCode: UInt32(reader.byte() ?? 0)), .responseTooLarge]
        let outcome = outcomes[Int(reader.byte() ?? 0) % outcomes.count]
        let stream = HTTP2StreamResult(outcome: outcome, headers: headers, trailers: trailers, body: reader.rest())
        _ = GRPCResponseInterpreter.interpret(stream, maximumMessageLength: 4096)
    }

    /// Every protobuf-c response decoder on the same bytes.
    private static func decodeMessages(_ input: [UInt8]) {
        _ = try? ConductorProtobufCodec.decodeDayProof(input)
        _ = try? ConductorProtobufCodec.decodeReceipt(input)
        _ = try? ConductorProtobufCodec.decodeReceiptBatch(input)
        _ = try? ConductorProtobufCodec.decodeHealthCheck(input)
        _ = try? ConductorProtobufCodec.decodeStandardHealthCheck(input)
    }
}

extension FuzzInput {
    /// The REST contract's JSON readers on the same bytes (a REST conductor's answer).
    fileprivate static func decodeJSON(_ input: [UInt8]) {
        _ = try? RESTJSON.decodeDayProof(input)
        _ = try? RESTJSON.decodeReceipt(input)
        _ = try? RESTJSON.decodeReceipts(input, count: input.count % 4)
        _ = RESTJSON.errorMessage(input)
        _ = RESTJSON.isJSONObjectOrArray(input)
    }
}

/// Reads bytes and short strings off the front of a fuzz input.
struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func string(length: Int) -> String {
        let end = min(bytes.count, index + length)
        defer { index = end }
        return String(decoding: bytes[index..<end], as: UTF8.self)
    }

    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, index + count)
        defer { index = end }
        return Array(bytes[index..<end])
    }

    mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return Array(bytes[index...])
    }
}
