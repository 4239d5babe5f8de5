import Dispatch
import GRPCWire

#if canImport(Glibc)
import Glibc
#endif

/// The fuzzer plays the server: a real ``HTTP2Connection`` on the real event loop connects over a
/// unix socket, three calls go out, and the fuzzer answers with the frames ``ServerFrames`` makes
/// of the input, then hangs up. Every call must finish — with an answer or an error — soon after
/// the connection closes, and nothing may crash or leak (under AddressSanitizer and LeakSanitizer).
/// This covers what a hostile server controls: `session_callbacks.c`, header handling, the
/// shim's completion and the Swift result path up to the status interpretation.
enum ServerPlay {
    private static let callsPerInput = 3
    private static let socketPath = "/tmp/conductor-fuzz-\(getpid()).sock"
    nonisolated(unsafe) private static var listener: Int32 = -1
    /// `CONDUCTOR_FUZZ_VERBOSE=1` prints each call's outcome (to see how deep a corpus input gets).
    private static let verbose = getenv("CONDUCTOR_FUZZ_VERBOSE") != nil

    static func run(_ input: [UInt8]) {
        if listener < 0 { listener = listen(at: socketPath) }
        var options = HTTP2Connection.Options()
        options.connectTimeout = .seconds(5)
        options.maximumHeaderListBytes = 4096
        let connection = HTTP2Connection(target: HTTP2Connection.Target(host: socketPath, port: 0, isUnixSocket: true), options: options)
        let finished = DispatchSemaphore(value: 0)
        var head = HTTP2HeaderBlock()
        for (name, value) in [(":method", "POST"), (":scheme", "http"), (":path", "/chorus.ConductorBridge/GetDayProof"),
                              (":authority", "fuzz"), ("content-type", "application/grpc"), ("te", "trailers")] {
            head.append(name: name, value: value)
        }
        let headers = head
        for _ in 0..<callsPerInput {
            Task {
                // A long deadline: the calls must end because the connection closed, not because time ran out.
                let stream = await connection.exchange(headers: headers, body: [0, 0, 0, 0, 2, 0x08, 0x01], timeout: .seconds(60),
                                                       maximumResponseBytes: 1 << 16)
                let response = GRPCResponseInterpreter.interpret(stream, maximumMessageLength: 1 << 16)
                if verbose { print(stream.outcome, response.result) }
                finished.signal()
            }
        }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { fatalError("the client never connected: \(String(cString: strerror(errno)))") }
        readClientStreams(server)
        var frames = ServerFrames(input)
        let bytes = frames.bytes()
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = send(server, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written <= 0 { break } // the client closed the connection (a protocol error it detected)
                offset += written
            }
        }
        close(server)
        for _ in 0..<callsPerInput where finished.wait(timeout: .now() + .seconds(10)) == .timedOut {
            fatalError("a call was left unfinished 10 s after the server closed the connection")
        }
        connection.shutdown()
    }

    /// Reads what the client sends until its three requests' HEADERS arrived (or it stops sending
    /// for a second), so that the server's frames meet open streams.
    private static func readClientStreams(_ socket: Int32) {
        var received: [UInt8] = []
        var opened = Set<UInt32>()
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while opened.count < callsPerInput, poll(&descriptor, 1, 1000) > 0 {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return }
            received += buffer[0..<count]
            var index = 24 // the connection preface
            while index + 9 <= received.count {
                let length = Int(received[index]) << 16 | Int(received[index + 1]) << 8 | Int(received[index + 2])
                let stream = UInt32(received[index + 5] & 0x7F) << 24 | UInt32(received[index + 6]) << 16
                    | UInt32(received[index + 7]) << 8 | UInt32(received[index + 8])
                if received[index + 3] == 0x1 { opened.insert(stream) }
                index += 9 + length
            }
        }
    }

    private static func listen(at path: String) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1)) + [0]
            raw.copyBytes(from: bytes)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else { fatalError("cannot listen at \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0) // accept gives up when the client never connects
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        atexit { unlink(ServerPlay.socketPath) }
        return fd
    }
}
