import Foundation

/// What the project's test servers share: the `LISTENING <port>` line they print once they serve,
/// and their JSON-lines request logs.
enum ServerStartup {
    /// The objects of a JSON-lines log, one per line that parses; empty while the file is missing.
    static func jsonLines(at path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    struct StartError: Error, CustomStringConvertible {
        var output: String
        var description: String { "the test server did not start (run Scripts/setup.sh); it printed: \(output)" }
    }

    static func readListeningPort(_ handle: FileHandle) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            // A blocking read belongs on its own thread, not on the cooperative pool.
            Thread.detachNewThread {
                var text = ""
                while !text.contains("\n") {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                let words = text.split(whereSeparator: \.isWhitespace)
                if words.count >= 2, words[0] == "LISTENING", let port = Int(words[1]) {
                    continuation.resume(returning: port)
                } else {
                    continuation.resume(throwing: StartError(output: text))
                }
            }
        }
    }
}
