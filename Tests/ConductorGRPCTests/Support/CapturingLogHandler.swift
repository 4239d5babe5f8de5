import LockedState
import Logging

/// A swift-log handler that keeps every record, for tests that assert on levels and metadata.
struct CapturingLogHandler: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    final class Store: Sendable {
        private let records = Locked<[Record]>([])
        func append(_ record: Record) { records.withLock { $0.append(record) } }
        var all: [Record] { records.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    /// A logger whose records land in `store`.
    static func logger(_ label: String = "capture", store: Store) -> Logger {
        Logger(label: label) { _ in CapturingLogHandler(store: store) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(Record(level: event.level, message: "\(event.message)",
                            metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
