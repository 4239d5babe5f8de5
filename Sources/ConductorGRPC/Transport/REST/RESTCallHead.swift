import GRPCWire

/// What a REST request takes from a gRPC call's request head: the method's path, the message's
/// `grpc-encoding`, and the call's own metadata (every field gRPC does not define), which travels
/// as the REST request's headers.
struct RESTCallHead {
    /// gRPC's own request headers: everything else in the head is the call's metadata.
    private static let grpcHeaderNames: [[UInt8]] = [
        "te", "content-type", "user-agent", "grpc-timeout", "grpc-accept-encoding", "grpc-encoding",
        "grpc-previous-rpc-attempts", "accept-encoding",
    ].map { Array($0.utf8) }
    private static let pathName = Array(":path".utf8)
    private static let encodingName = Array("grpc-encoding".utf8)

    var path: ArraySlice<UInt8> = []
    var encoding: String?
    var metadata = HTTP2HeaderBlock()

    init(_ headers: HTTP2HeaderBlock) {
        headers.forEachField { name, value in
            if name.first == UInt8(ascii: ":") {
                if Self.pathName.equals(name) { path = value }
            } else if Self.grpcHeaderNames.contains(where: { $0.equals(name) }) {
                if Self.encodingName.equals(name) { encoding = String(decoding: value, as: UTF8.self) }
            } else {
                metadata.append(name: name, value: value)
            }
        }
    }

    /// The metadata as libcurl's header lines: `name: value`, each ended by a NUL byte.
    var headerLines: [UInt8] {
        var lines: [UInt8] = []
        metadata.forEachField { name, value in
            lines.append(contentsOf: name)
            lines.append(contentsOf: ": ".utf8)
            lines.append(contentsOf: value)
            lines.append(0)
        }
        return lines
    }
}
