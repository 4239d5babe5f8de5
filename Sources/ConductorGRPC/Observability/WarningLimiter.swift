import BridgeResilience
import LockedState
import Logging

/// Keeps a flapping conductor from flooding the host's logs: the same warning (message and
/// endpoint) goes out at most once per ``interval``; repeats inside it are logged at `debug`, and
/// the next warning that goes out says how many were held back.
final class WarningLimiter: Sendable {
    /// How long a warning silences its repeats.
    static let interval: Duration = .seconds(60)

    private struct Entry {
        var lastEmitted: MonotonicInstant
        var suppressed: Int
    }

    private let entries = Locked<[String: Entry]>([:])

    /// The level to log at, and how many repeats were held back since the last warning went out.
    func level(for level: Logger.Level, message: String, metadata: Logger.Metadata, at now: MonotonicInstant)
        -> (level: Logger.Level, suppressed: Int) {
        guard level == .warning else { return (level, 0) }
        let key = "\(message)|\(metadata["endpoint"].map { "\($0)" } ?? "")"
        return entries.withLock { entries in
            if var entry = entries[key], now < entry.lastEmitted + Self.interval {
                entry.suppressed += 1
                entries[key] = entry
                return (.debug, 0)
            }
            let suppressed = entries[key]?.suppressed ?? 0
            entries[key] = Entry(lastEmitted: now, suppressed: 0)
            return (.warning, suppressed)
        }
    }
}
