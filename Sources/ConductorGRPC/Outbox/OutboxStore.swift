import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// The outbox's SQLite database: accepted events in acceptance order (an AUTOINCREMENT key is never
/// reused, so the order survives deletes and restarts) and the dead letters. WAL journal with
/// `synchronous=FULL`: a commit that returned survives a power cut, not only a process crash,
/// which is the promise `submitDurably` makes. A client holds the database for itself (an
/// exclusive `flock` on the file, which SQLite's own `fcntl` locks do not see), so a second process
/// cannot deliver the same events; an inspection (`conductor-smoke --outbox`) opens it read-only
/// beside it.
///
/// Not thread-safe: ``ConductorOutbox`` calls it from one serial queue only.
final class OutboxStore: @unchecked Sendable {
    /// A failure of SQLite, with its message.
    struct Failure: Error {
        var message: String
    }

    /// One queued event as stored: the protobuf `ConductorEvent` message.
    struct Row {
        var id: Int64
        var message: [UInt8]
        var acceptedAt: Double
    }

    /// One dead letter as stored.
    struct DeadRow {
        var id: Int64
        var message: [UInt8]
        var code: Int
        var reason: String
    }

    /// What the tables hold.
    struct Totals {
        var events = 0
        var bytes = 0
        var oldestAcceptedAt: Double?
        var deadLetters = 0
    }

    private var handle: OpaquePointer?
    /// The descriptor holding the `flock` (-1 when read-only).
    private var lockDescriptor: Int32 = -1
    private var db: OpaquePointer {
        get throws(Failure) {
            guard let handle else { throw Failure(message: "the outbox is closed") }
            return handle
        }
    }

    /// Opens (or creates) the database at `path` and takes it for this process; `readOnly` opens an
    /// existing one to look at, beside the process that holds it.
    init(path: String, readOnly: Bool = false) throws(Failure) {
        if !readOnly {
            lockDescriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard lockDescriptor >= 0 else { throw Failure(message: String(cString: strerror(errno))) }
            guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
                let busy = errno == EWOULDBLOCK
                close()
                throw Failure(message: busy ? "another process (or client) is using this outbox" : String(cString: strerror(errno)))
            }
        }
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            close()
            throw Failure(message: message)
        }
        self.handle = handle
        if readOnly {
            do throws(Failure) { _ = try totals() } catch {
                close()
                throw error
            }
            return
        }
        do throws(Failure) {
            guard try text("PRAGMA journal_mode=WAL") == "wal" else { throw Failure(message: "the database cannot use a WAL journal") }
            try execute("PRAGMA synchronous=FULL")
            try execute("""
                CREATE TABLE IF NOT EXISTS outbox_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, message BLOB NOT NULL, accepted_at REAL NOT NULL)
                """)
            try execute("""
                CREATE TABLE IF NOT EXISTS outbox_dead_letters (
                    id INTEGER PRIMARY KEY, message BLOB NOT NULL, accepted_at REAL NOT NULL,
                    failed_at REAL NOT NULL, code INTEGER NOT NULL, reason TEXT NOT NULL)
                """)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Closes the database (and releases it for another process); later calls fail.
    func close() {
        sqlite3_close_v2(handle)
        handle = nil
        if lockDescriptor >= 0 {
            Glibc.close(lockDescriptor) // releases the flock
            lockDescriptor = -1
        }
    }

    /// Counts what the tables hold (reads every row's length: done once, at start-up).
    func totals() throws(Failure) -> Totals {
        var totals = Totals()
        try query("SELECT count(*), coalesce(sum(length(message)), 0), min(accepted_at) FROM outbox_events") { statement in
            totals.events = Int(sqlite3_column_int64(statement, 0))
            totals.bytes = Int(sqlite3_column_int64(statement, 1))
            if sqlite3_column_type(statement, 2) != SQLITE_NULL { totals.oldestAcceptedAt = sqlite3_column_double(statement, 2) }
        }
        try query("SELECT count(*) FROM outbox_dead_letters") { totals.deadLetters = Int(sqlite3_column_int64($0, 0)) }
        return totals
    }

    /// Appends `messages` in one transaction (one fsync) and returns their ids, in order.
    func append(_ messages: [[UInt8]], acceptedAt: Double) throws(Failure) -> [Int64] {
        try transaction { () throws(Failure) in
            try messages.map { message throws(Failure) in
                try prepared("INSERT INTO outbox_events (message, accepted_at) VALUES (?, ?)") { statement throws(Failure) in
                    bind(message, to: 1, in: statement)
                    sqlite3_bind_double(statement, 2, acceptedAt)
                    try step(statement, expecting: SQLITE_DONE)
                }
                return sqlite3_last_insert_rowid(try db)
            }
        }
    }

    /// The `limit` oldest events.
    func oldest(limit: Int) throws(Failure) -> [Row] {
        var rows: [Row] = []
        try query("SELECT id, message, accepted_at FROM outbox_events ORDER BY id LIMIT \(limit)") { statement in
            rows.append(Row(id: sqlite3_column_int64(statement, 0), message: blob(statement, column: 1),
                            acceptedAt: sqlite3_column_double(statement, 2)))
        }
        return rows
    }

    /// The oldest event's acceptance time, if any.
    func oldestAcceptedAt() throws(Failure) -> Double? {
        var oldest: Double?
        try query("SELECT accepted_at FROM outbox_events ORDER BY id LIMIT 1") { oldest = sqlite3_column_double($0, 0) }
        return oldest
    }

    /// Deletes delivered events, in one transaction.
    func delete(_ ids: [Int64]) throws(Failure) {
        try transaction { () throws(Failure) in
            for id in ids {
                try prepared("DELETE FROM outbox_events WHERE id = ?") { statement throws(Failure) in
                    sqlite3_bind_int64(statement, 1, id)
                    try step(statement, expecting: SQLITE_DONE)
                }
            }
        }
    }

    /// Moves one event to the dead letters, with the conductor's status.
    func deadLetter(_ row: Row, code: Int, reason: String, failedAt: Double) throws(Failure) {
        try transaction { () throws(Failure) in
            try prepared("""
                INSERT INTO outbox_dead_letters (id, message, accepted_at, failed_at, code, reason) VALUES (?, ?, ?, ?, ?, ?)
                """) { statement throws(Failure) in
                sqlite3_bind_int64(statement, 1, row.id)
                bind(row.message, to: 2, in: statement)
                sqlite3_bind_double(statement, 3, row.acceptedAt)
                sqlite3_bind_double(statement, 4, failedAt)
                sqlite3_bind_int64(statement, 5, Int64(code))
                sqlite3_bind_text(statement, 6, reason, -1, Self.transient)
                try step(statement, expecting: SQLITE_DONE)
            }
            try prepared("DELETE FROM outbox_events WHERE id = ?") { statement throws(Failure) in
                sqlite3_bind_int64(statement, 1, row.id)
                try step(statement, expecting: SQLITE_DONE)
            }
        }
    }

    /// The dead letters, oldest first.
    func deadLetters(limit: Int) throws(Failure) -> [DeadRow] {
        var rows: [DeadRow] = []
        try query("SELECT id, message, code, reason FROM outbox_dead_letters ORDER BY id LIMIT \(limit)") { statement in
            rows.append(DeadRow(id: sqlite3_column_int64(statement, 0), message: blob(statement, column: 1),
                                code: Int(sqlite3_column_int64(statement, 2)),
                                reason: String(cString: sqlite3_column_text(statement, 3))))
        }
        return rows
    }

    // MARK: SQLite plumbing

    /// SQLITE_TRANSIENT: SQLite copies bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func failure(_ context: String) -> Failure {
        Failure(message: "\(context): \(handle.map { String(cString: sqlite3_errmsg($0)) } ?? "the outbox is closed")")
    }

    private func execute(_ sql: String) throws(Failure) {
        guard sqlite3_exec(try db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
    }

    private func text(_ sql: String) throws(Failure) -> String? {
        var value: String?
        try query(sql) { statement in value = sqlite3_column_text(statement, 0).map { String(cString: $0) } }
        return value
    }

    private func transaction<Result>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        try execute("BEGIN IMMEDIATE")
        do throws(Failure) {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    private func prepared<Result>(_ sql: String, _ body: (OpaquePointer) throws(Failure) -> Result) throws(Failure) -> Result {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(try db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure(sql) }
        defer { sqlite3_finalize(statement) }
        return try body(statement)
    }

    private func query(_ sql: String, row: (OpaquePointer) -> Void) throws(Failure) {
        try prepared(sql) { statement throws(Failure) in
            while true {
                switch sqlite3_step(statement) {
                case SQLITE_ROW: row(statement)
                case SQLITE_DONE: return
                default: throw failure(sql)
                }
            }
        }
    }

    private func step(_ statement: OpaquePointer, expecting expected: Int32) throws(Failure) {
        guard sqlite3_step(statement) == expected else { throw failure(String(cString: sqlite3_sql(statement))) }
    }

    private func bind(_ bytes: [UInt8], to index: Int32, in statement: OpaquePointer) {
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(statement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), Self.transient)
        }
    }

    private func blob(_ statement: OpaquePointer, column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
