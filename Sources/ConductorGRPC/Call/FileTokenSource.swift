#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a bearer token from a file that another process rotates, such as a Kubernetes projected
/// service-account token: the file is read again when the token is older than `rereadInterval`
/// and whenever the server rejects it, so a rewritten file is picked up without a restart.
///
/// ```swift
/// let auth = BearerTokenInterceptor(provider: FileTokenSource(path: "/var/run/secrets/conductor/token").token)
/// ```
public struct FileTokenSource: Sendable {
    /// The file holding the token (surrounding whitespace is ignored).
    public let path: String
    /// How long a token read from the file is used before the file is read again.
    public let rereadInterval: Duration

    /// A source reading `path`, again after `rereadInterval` (default 60 s).
    public init(path: String, rereadInterval: Duration = .seconds(60)) {
        self.path = path
        self.rereadInterval = rereadInterval
    }

    /// Reads the token now, on a thread of the global executor (`@concurrent`: a file read
    /// blocks); throws when the file cannot be read or is empty.
    @concurrent
    public func token() async throws(ConductorError) -> BearerToken {
        BearerToken(try read(), lifetime: rereadInterval)
    }

    /// The file's trimmed content.
    func read() throws(ConductorError) -> String {
        guard let bytes = Self.contents(of: path) else {
            throw .invalidConfiguration("the token file \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let token = text.trimmingWhitespace()
        guard !token.isEmpty else { throw .invalidConfiguration("the token file \(path) is empty") }
        return token
    }

    /// The whole file, or nil when it cannot be opened or read (`errno` says why). Token files
    /// are small; anything past 64 KiB is not a token and is refused.
    private static func contents(of path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 65536 {
                errno = EFBIG
                return nil
            }
        }
    }
}
