#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to the process's standard error (file descriptor 2), which carries diagnostics and the
/// live progress line, so standard output stays the report (or the JSON object).
enum StandardError {
    /// Whether standard error is a terminal: the progress line is drawn only then.
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes `text` as is.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                systemWrite(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Writes `text` and a newline.
    static func line(_ text: String) {
        write(text + "\n")
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
