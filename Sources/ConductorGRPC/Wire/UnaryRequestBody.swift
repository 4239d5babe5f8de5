import GRPCWire

/// The one message of a framed unary request body, inflated when its flag says so: what a server
/// reads, for the transports that answer gRPC requests without a gRPC server (in process, REST).
enum UnaryRequestBody {
    struct Invalid: Error {
        var explanation: String
    }

    static func message(of body: [UInt8], encoding: String?) throws(Invalid) -> [UInt8] {
        var decoder = GRPCMessageDecoder(maximumMessageLength: body.count)
        decoder.append(body)
        let frame: GRPCMessageDecoder.Frame
        do {
            guard let next = try decoder.next() else { throw Invalid(explanation: "the request carries no message") }
            frame = next
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(explanation: "the request is not a gRPC message (\(error))")
        }
        guard frame.compressed else { return frame.message }
        guard let encoding, let compression = GRPCCompression(encodingName: encoding) else {
            throw Invalid(explanation: "a compressed request without a known grpc-encoding")
        }
        do {
            return try compression.decompress(frame.message, limit: 64 << 20)
        } catch {
            throw Invalid(explanation: "the request does not inflate (\(error))")
        }
    }
}
