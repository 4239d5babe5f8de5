/// Builds a unary request's header block in the order the gRPC specification gives:
/// `:method`, `:scheme`, `:path`, `:authority`, then `grpc-timeout`, `content-type`, `te`,
/// `user-agent`, then `grpc-encoding` and `grpc-accept-encoding` when compression is on, then custom
/// metadata. The parts that never change for a connection are packed
/// once, so a call only appends its path, timeout and metadata.
package struct GRPCRequestHeadBuilder: Sendable {
    private let leading: HTTP2HeaderBlock
    private let authority: HTTP2HeaderBlock
    private let trailing: HTTP2HeaderBlock

    /// Creates a builder for one connection; `userAgent` names the library and its version;
    /// `compression` is the one request messages are compressed with, if any. Only then does the
    /// client ask for compressed answers (`grpc-accept-encoding`): the header costs every call
    /// about 600 instructions of HPACK work, and conductor messages are small.
    package init(scheme: String, authority: String, userAgent: String, compression: GRPCCompression? = nil) {
        var leading = HTTP2HeaderBlock()
        leading.append(name: ":method", value: "POST")
        leading.append(name: ":scheme", value: scheme)
        self.leading = leading
        var authorityBlock = HTTP2HeaderBlock()
        authorityBlock.append(name: ":authority", value: authority)
        self.authority = authorityBlock
        var trailing = HTTP2HeaderBlock()
        trailing.append(name: "content-type", value: "application/grpc")
        trailing.append(name: "te", value: "trailers")
        trailing.append(name: "user-agent", value: userAgent)
        if let compression {
            trailing.append(name: "grpc-encoding", value: compression.rawValue)
            trailing.append(name: "grpc-accept-encoding", value: GRPCCompression.acceptEncoding)
        }
        self.trailing = trailing
    }

    /// The header block of one call.
    package func headers(
        path: String,
        timeout: Duration?,
        previousAttempts: Int = 0,
        metadata: GRPCMetadata = GRPCMetadata()
    ) -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock()
        block.reserveCapacity(leading.bytes.count + authority.bytes.count + trailing.bytes.count + path.utf8.count + 64)
        block.append(leading)
        block.append(name: ":path", value: path)
        block.append(authority)
        if let timeout { block.append(name: "grpc-timeout", value: GRPCTimeout.encode(timeout)) }
        block.append(trailing)
        if previousAttempts > 0 { block.append(name: "grpc-previous-rpc-attempts", value: String(previousAttempts)) }
        for entry in metadata.entries {
            block.append(name: entry.name, value: GRPCMetadata.wireValue(entry.value))
        }
        return block
    }
}
