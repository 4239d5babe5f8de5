import ConductorGRPC
import Foundation
import Testing

/// What the client puts on the wire when it opens TLS, read from its ClientHello by a bare TCP
/// listener: the server name (SNI), the protocol versions it offers, and ALPN.
struct ClientHelloTests {
    @Test func theClientHelloCarriesSNIOffersOnlyTLS12AndLaterAndAsksForH2() async throws {
        let listener = try LoopbackListener()
        var configuration = try ConductorConfiguration(baseURL: "grpcs://127.0.0.1:\(listener.port)")
        configuration.tlsServerName = "conductor.example"
        configuration.maxRetries = 0
        configuration.timeout = .seconds(3)
        configuration.healthCheckInterval = nil
        let client = try ConductorClient(configuration: configuration)
        let call = Task { try await client.health() }
        let hello = try ClientHello(try await listener.firstBytes())
        #expect(hello.serverName == "conductor.example")
        #expect(!hello.versions.isEmpty, "a TLS 1.3 client lists its versions in supported_versions")
        #expect(hello.versions.allSatisfy { $0 >= 0x0303 }, "TLS 1.2 or later only: \(hello.versions.map { String($0, radix: 16) })")
        #expect(hello.protocols == ["h2"])
        listener.close()
        _ = await call.result
        await client.shutdown()
    }
}

/// The parts of a TLS ClientHello these tests read.
private struct ClientHello {
    var serverName: String?
    var versions: [UInt16] = []
    var protocols: [String] = []

    struct Malformed: Error {}

    init(_ bytes: [UInt8]) throws {
        var reader = Reader(bytes: bytes)
        guard try reader.byte() == 0x16 else { throw Malformed() } // handshake record
        try reader.skip(4)
        guard try reader.byte() == 0x01 else { throw Malformed() } // ClientHello
        try reader.skip(3 + 2 + 32)
        try reader.skip(Int(reader.byte()))                        // session id
        try reader.skip(Int(reader.uint16()))                      // cipher suites
        try reader.skip(Int(reader.byte()))                        // compression methods
        let end = reader.index + Int(try reader.uint16())
        while reader.index + 4 <= end {
            let type = try reader.uint16()
            var body = Reader(bytes: try reader.take(Int(reader.uint16())))
            switch type {
            case 0x0000: // server_name: list length, type 0 (host name), name length, name
                try body.skip(3)
                serverName = String(decoding: try body.take(Int(body.uint16())), as: UTF8.self)
            case 0x002B: // supported_versions: length byte, then two bytes per version
                versions = try (0..<Int(body.byte()) / 2).map { _ in try body.uint16() }
            case 0x0010: // ALPN: list length, then length-prefixed names
                try body.skip(2)
                while body.index < body.bytes.count {
                    protocols.append(String(decoding: try body.take(Int(body.byte())), as: UTF8.self))
                }
            default: break
            }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func byte() throws -> UInt8 { try take(1)[0] }
        mutating func uint16() throws -> UInt16 { let two = try take(2); return UInt16(two[0]) << 8 | UInt16(two[1]) }
        mutating func skip(_ count: Int) throws { _ = try take(count) }
        mutating func take(_ count: Int) throws -> [UInt8] {
            guard count >= 0, index + count <= bytes.count else { throw Malformed() }
            defer { index += count }
            return Array(bytes[index..<index + count])
        }
    }
}

/// A TCP listener on 127.0.0.1 that accepts one connection and hands over what the peer sends first.
private final class LoopbackListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = fd
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard listen(fd, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The first bytes of the first connection (a ClientHello fits in one read).
    func firstBytes() async throws -> [UInt8] {
        let fd = fd
        return try await Task.detached {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { throw POSIXError(.ETIMEDOUT) }
            defer { Glibc.close(connection) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 16_384)
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            return Array(buffer[0..<count])
        }.value
    }

    func close() { Glibc.close(fd) }
}
