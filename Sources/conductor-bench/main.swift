// conductor-bench: drives the public ConductorClient API for Scripts/bench.sh and prints one
// RESULT line (see BenchReport). The peers print the same line: Benchmarks/cpp/bench_client.cc and
// Benchmarks/GRPCSwiftPeer.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ConductorGRPC

let options = BenchOptions.fromCommandLine(program: "conductor-bench")

let client: ConductorClient
do {
    // CONDUCTOR_* variables apply (e.g. CONDUCTOR_SUBMIT_COALESCE_WINDOW); --target is the endpoint.
    var environment = ConductorConfiguration.processEnvironment()
    environment["CONDUCTOR_BASE_URL"] = options.target
    client = try ConductorClient(configuration: ConductorConfiguration.fromEnvironment(environment))
    // Connect before the clock starts, as the peers do.
    _ = try await client.health()
} catch {
    BenchReport.writeStandardError("conductor-bench: cannot reach \(options.target): \(error)")
    exit(1)
}

let event = ConductorEvent(eventType: "bench.event", epoch: 1, payload: Scenario.payload, metadata: ["origin": "bench"])
let batch = Array(repeating: event, count: Scenario.eventsPerBatch)
let reload = ConductorCallOptions(cachePolicy: .reload)
let call: LoadDriver.Call = switch options.scenario {
// (a) and (b) measure calls on the wire, so they bypass the day-proof cache; (e) measures the cache.
case .unary, .concurrent: { _ = try await client.dayProof(Scenario.day, options: reload) }
case .cached: { _ = try await client.dayProof(Scenario.day) }
case .batch: { _ = try await client.submit(batch: batch) }
case .submit: { _ = try await client.submit(event) }
}

if options.executor == .loop, client.loopExecutor == nil {
    BenchReport.writeStandardError("conductor-bench: --executor loop: this protocol's client has no loop executor")
    exit(2)
}
let outcome = await withTaskExecutorPreference(options.executor == .loop ? client.loopExecutor : nil) {
    await LoadDriver(options: options).run(call)
}
let cache = client.cacheStatistics
await client.shutdown()

var report = BenchReport(client: options.executor == .loop ? "ours-loop" : "ours", options: options, outcome: outcome)
if options.scenario == .cached {
    // Whether the lookups were cache hits, from the client's own cache counters.
    let servedBy = cache.hits >= outcome.calls * 99 / 100 ? "cache" : "network"
    report.extra += [("cache_hits", String(cache.hits)), ("cache_misses", String(cache.misses)), ("served", servedBy)]
}
report.print()
exit(outcome.errors == 0 ? 0 : 1)
