import BridgeResilience
@testable import ConductorGRPC
import Logging
import Metrics
import Testing

/// The real ``ConductorClient`` — pool, retries, breaker, budget, deadlines — over the scripted
/// transport and the manual clock: every rule runs deterministically, with no network and no sleep.
struct InProcessClient {
    let clock = ManualCallClock()
    let transport: ScriptedTransport
    let client: ConductorClient

    /// A client of `endpoints` loopback addresses (nothing connects to them: the transport is scripted).
    init(endpoints: Int = 1, metrics: (any MetricsFactory)? = nil, configure: (inout ConductorConfiguration) -> Void = { _ in }) throws {
        var configuration = try ConductorConfiguration(baseURL: (1...endpoints).map { "grpc://127.0.0.1:\($0)" }.joined(separator: ","))
        configuration.timeout = .seconds(10)
        configuration.healthCheckInterval = nil
        configure(&configuration)
        transport = ScriptedTransport(clock: clock)
        client = try ConductorClient(configuration: configuration, logger: Logger(label: "in-process"), metricsFactory: metrics,
                                     transport: transport, clock: clock)
    }

    /// Starts a HealthCheck call (idempotent) in its own task.
    func health() -> Task<ServingStatus, any Error> {
        Task { try await client.health() }
    }

    /// Starts a SubmitEvent call in its own task.
    func submit() -> Task<ConductorReceipt, any Error> {
        Task { try await client.submit(ConductorEvent(eventType: "test", epoch: 1, payload: [1])) }
    }

    /// How many scheduler turns a waiting helper gives the client: far more than any rule needs,
    /// so a broken rule fails the test instead of hanging it.
    static let patience = 1_000_000

    /// Returns once `count` calls are parked in the pool (records an issue if they never are).
    func waitForParkedCalls(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async {
        for _ in 0..<Self.patience {
            if client.pool.parkedCallCount >= count { return }
            await Task.yield()
        }
        Issue.record("\(count) calls never parked (\(client.pool.parkedCallCount) did)", sourceLocation: sourceLocation)
    }

    /// The protobuf of a SERVING HealthCheckResponse.
    static let serving: [UInt8] = [0x08, 0x01]
    /// The protobuf of a ConductorReceipt with hash "a", epoch 1.
    static let receipt: [UInt8] = [0x0A, 0x01, 0x61, 0x10, 0x01]
}

/// The ConductorError a finished call task threw, or nil when it succeeded.
func callError<T>(_ task: Task<T, any Error>) async -> ConductorError? {
    switch await task.result {
    case .success: return nil
    case .failure(let error): return error as? ConductorError
    }
}

/// A `grpc-timeout` header value in nanoseconds.
func grpcTimeoutNanoseconds(_ value: String?) -> Int64? {
    guard let value, let unit = value.last, let amount = Int64(value.dropLast()) else { return nil }
    switch unit {
    case "H": return amount * 3_600_000_000_000
    case "M": return amount * 60_000_000_000
    case "S": return amount * 1_000_000_000
    case "m": return amount * 1_000_000
    case "u": return amount * 1_000
    case "n": return amount
    default: return nil
    }
}

/// The next exchange started on any of `connections` (whichever gets one first).
func nextExchange(on connections: [ScriptedConnection]) async -> (connection: ScriptedConnection, exchange: ScriptedExchange) {
    for _ in 0..<InProcessClient.patience {
        if let connection = connections.first(where: { $0.exchanges.pending > 0 }) {
            return (connection, await connection.exchanges.next())
        }
        await Task.yield()
    }
    Issue.record("no exchange started on \(connections.count) connections")
    return (connections[0], await connections[0].exchanges.next()) // the suite's time limit ends the test
}
