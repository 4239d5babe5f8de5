import ConductorGRPC
import Foundation
import Testing

/// The conductors the shared behavioural suite runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// ``InMemoryConductor``, in process.
    case memory
    /// ``ConductorClient`` over the in-process transport to an ``InMemoryConductor``.
    case inProcess
    /// ``ConductorClient`` connected to the reference conductor (grpcio) on loopback.
    case reference
    /// ``ConductorClient`` in REST mode, HTTP/1.1, to the reference REST conductor on loopback.
    case restHTTP1
    /// ``ConductorClient`` in REST mode over TLS, where the reference REST conductor picks h2 by ALPN.
    case restH2

    var testDescription: String { rawValue }

    /// A fresh conductor of this kind. `failFirst` makes the first N calls of a method fail with
    /// UNAVAILABLE "injected UNAVAILABLE" (the reference conductor's `--fail-first`).
    func start(failFirst: [ConductorMethod: Int] = [:]) async throws -> RunningBackend {
        switch self {
        case .memory:
            let conductor = InMemoryConductor()
            for (method, count) in failFirst {
                conductor.failNext(method, times: count, code: .unavailable)
            }
            return RunningBackend(service: conductor, memory: conductor, server: nil)
        case .inProcess:
            let conductor = InMemoryConductor()
            for (method, count) in failFirst {
                conductor.inject(.fail(.unavailable), into: method, when: .next(count))
            }
            var configuration = try ConductorConfiguration(baseURL: "grpc://conductor:50051")
            configuration.maxRetries = 0
            configuration.healthCheckInterval = nil
            let client = try ConductorClient(configuration: configuration, connectingTo: [conductor])
            return RunningBackend(service: client, memory: conductor, server: nil)
        case .reference:
            let arguments = failFirst.flatMap { ["--fail-first", "\($0.key.rawValue)=\($0.value)"] }
            let server = try await ReferenceConductor.start(arguments)
            // No retries: the suite compares what one call answers.
            let client = try makeClient(server.url) { $0.maxRetries = 0 }
            return RunningBackend(service: client, memory: nil, server: server)
        case .restHTTP1, .restH2:
            var arguments = failFirst.flatMap { ["--fail-first", "\($0.key.rawValue)=\($0.value)"] }
            let tls = self == .restH2
            if tls {
                arguments += ["--tls-cert", "\(TLSTests.certificates)/server.pem", "--tls-key", "\(TLSTests.certificates)/server.key"]
            }
            let server = try await ReferenceConductor.start(arguments, protocol: .rest)
            let client = try makeClient(server.url) { configuration in
                configuration.wireProtocol = .http
                configuration.maxRetries = 0
                if tls { configuration.tlsCAFile = "\(TLSTests.certificates)/ca.pem" }
            }
            return RunningBackend(service: client, memory: nil, server: server)
        }
    }
}

/// A started backend: the service under test and a way to see what it applied.
struct RunningBackend: Sendable {
    let service: any ConductorService
    let memory: InMemoryConductor?
    let server: ReferenceConductor?

    /// The `source` its day proofs carry.
    var proofSource: String { server == nil ? InMemoryConductor.proofSource : "reference-conductor" }

    /// The hashes of every event applied so far, in the order applied.
    func appliedEventHashes() -> [String] {
        if let memory { return memory.appliedEvents.map(\.receipt.eventHash) }
        guard let server, let text = try? String(contentsOfFile: server.logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").flatMap { line -> [String] in
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  entry["applied"] as? Bool == true else { return [] }
            return entry["event_hashes"] as? [String] ?? []
        }
    }

    func stop() async {
        await service.shutdown()
        server?.stop()
    }
}
