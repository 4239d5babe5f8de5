// A process that uses a durable outbox the way a service does, for the test that kills one with
// SIGKILL in the middle of delivery (Tests/ConductorGRPCTests/OutboxCrashTests.swift).
//
//   conductor-outbox-drill enqueue N   accepts events 0..<N (eventType "drill", epoch i) and exits
//   conductor-outbox-drill deliver     runs the client until the outbox is empty, then exits
//
// The outbox and the conductor come from the environment (CONDUCTOR_OUTBOX_PATH, CONDUCTOR_BASE_URL).
import ConductorGRPC
#if canImport(Glibc)
import Glibc
#endif

/// The `index`th event the drill accepts (the test computes the same hashes).
func drillEvent(_ index: Int) -> ConductorEvent {
    ConductorEvent(eventType: "drill", epoch: Int32(index), payload: Array("event \(index)".utf8))
}

func fail(_ message: String) -> Never {
    print("conductor-outbox-drill: \(message)")
    exit(2)
}

/// "N events in S s (R/s)".
func rate(_ count: Int, since start: ContinuousClock.Instant) -> String {
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return "\(count) events in \((seconds * 100).rounded() / 100) s (\(Int(Double(count) / max(seconds, 1e-9)))/s)"
}

let arguments = Array(CommandLine.arguments.dropFirst())
let client: ConductorClient
do {
    client = try ConductorClient(configuration: ConductorConfiguration.fromEnvironment())
} catch {
    fail("\(error)")
}
guard let outbox = client.outbox else { fail("set CONDUCTOR_OUTBOX_PATH") }

switch arguments.first {
case "enqueue":
    guard arguments.count == 2, let count = Int(arguments[1]) else { fail("usage: enqueue N") }
    // Concurrent submits in waves of 100, so that commits are grouped as in a busy service.
    let start = ContinuousClock.now
    for wave in stride(from: 0, to: count, by: 100) {
        do {
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in wave..<min(count, wave + 100) {
                    group.addTask { try await client.submitDurably(drillEvent(index)) }
                }
                try await group.waitForAll()
            }
        } catch {
            fail("\(error)")
        }
    }
    print("enqueued \(rate(count, since: start)); the outbox holds \(outbox.statistics.events)")
    await client.shutdown()
case "deliver":
    let waiting = outbox.statistics.events
    let start = ContinuousClock.now
    let running = Task { try await client.run() }
    while outbox.statistics.events > 0 {
        try? await Task.sleep(for: .milliseconds(20))
    }
    await client.shutdown()
    _ = await running.result
    print("delivered \(rate(waiting, since: start)); dead letters: \(outbox.statistics.deadLetters)")
default:
    fail("usage: conductor-outbox-drill enqueue N | deliver")
}
