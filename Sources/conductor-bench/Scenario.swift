/// The benchmark scenarios of `Scripts/bench.sh` (see `Benchmarks/README.md`).
///
/// This file is shared with the grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`) through a symlink.
enum Scenario: String, Sendable, CaseIterable {
    /// (a) GetDayProof, one call in flight.
    case unary
    /// (b) GetDayProof, 64 calls in flight on one connection.
    case concurrent
    /// (c) SubmitEventsBatch of 100 events of 200 bytes, 8 in flight.
    case batch
    /// (d) SubmitEvent, one event a call, 64 in flight.
    case submit
    /// (e) `dayProof` lookups of one canonical day, in one process (served by the client's cache
    /// once it has one).
    case cached

    /// The day every GetDayProof scenario asks for (canonical, so cacheable).
    static let day: Int32 = 7
    /// Events per SubmitEventsBatch call.
    static let eventsPerBatch = 100
    /// Payload bytes per event.
    static let payloadBytes = 200

    /// Calls in flight unless `--concurrency` says otherwise.
    var defaultConcurrency: Int {
        switch self {
        case .unary, .cached: 1
        case .concurrent, .submit: 64
        case .batch: 8
        }
    }

    /// Events carried by one call.
    var eventsPerCall: Int { self == .batch ? Self.eventsPerBatch : 1 }

    /// Calls made between two clock readings: cached lookups are too quick to time one by one, so
    /// they are timed in blocks and each lookup is counted at the block's mean.
    var callsPerSample: Int { self == .cached ? 256 : 1 }

    /// The payload every benchmark event carries: bytes 0, 1, 2, … wrapping at 256.
    static var payload: [UInt8] { (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0) } }
}
