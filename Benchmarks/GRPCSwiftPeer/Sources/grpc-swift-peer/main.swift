// grpc-swift-peer: the grpc-swift-2 peer of conductor-bench for Scripts/bench.sh. Same command line
// and RESULT line (the shared files are symlinks into Sources/conductor-bench); calls go through
// grpc-swift-2's GRPCClient on the NIO Posix HTTP/2 transport, one connection, plaintext.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

let options = BenchOptions.fromCommandLine(program: "grpc-swift-peer")
guard let (host, port) = options.hostAndPort else { exit(2) }
guard options.executor == .global else {
    BenchReport.writeStandardError("grpc-swift-peer: --executor loop: grpc-swift-2 has no loop executor here")
    exit(2)
}

var event = Chorus_ConductorEvent()
event.eventType = "bench.event"
event.epoch = 1
event.payload = Data(Scenario.payload)
event.metadata = ["origin": "bench"]
var batch = Chorus_ConductorEventBatch()
batch.events = Array(repeating: event, count: Scenario.eventsPerBatch)
var dayRequest = Chorus_DayProofRequest()
dayRequest.dayNumber = Scenario.day
let (submitRequest, batchRequest, dayProofRequest) = (event, batch, dayRequest)

let outcome: LoadDriver.Outcome
do {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
    outcome = try await withGRPCClient(transport: transport) { grpc in
        let bridge = ConductorBridgeCalls(client: grpc)
        // Connect before the clock starts, as the other clients do.
        _ = try await bridge.healthCheck(Chorus_HealthCheckRequest())
        let call: LoadDriver.Call = switch options.scenario {
        case .unary, .concurrent, .cached: { _ = try await bridge.getDayProof(dayProofRequest) }
        case .batch: { _ = try await bridge.submitEventsBatch(batchRequest) }
        case .submit: { _ = try await bridge.submitEvent(submitRequest) }
        }
        return await LoadDriver(options: options).run(call)
    }
} catch {
    BenchReport.writeStandardError("grpc-swift-peer: \(error)")
    exit(1)
}

BenchReport(client: "grpc-swift", options: options, outcome: outcome).print()
exit(outcome.errors == 0 ? 0 : 1)
