import ConductorGRPC
import Foundation
import InMemoryTracing
import LockedState
import Testing
import Tracing

/// Tracing with swift-distributed-tracing: a client span per call, attempts and retries as events,
/// the span's context in the request metadata (against the reference conductor).
@Suite("Tracing", .timeLimit(.minutes(1)))
struct TracingTests {
    @Test func aSpanPerCallWithRPCAttributesAndATraceparentTheServerReceives() async throws {
        let server = try await ReferenceConductor.start(["--fail-first", "GetDayProof=1"])
        let tracer = W3CTestTracer()
        var configuration = try ConductorConfiguration(baseURL: server.url)
        configuration.retryDelay = .milliseconds(1)
        configuration.retryMaxDelay = .milliseconds(5)
        let client = try ConductorClient(configuration: configuration, tracer: tracer)

        _ = try await client.dayProof(3)
        let notFound = await conductorError { () async throws(ConductorError) in try await client.dayProof(5000) }
        #expect(notFound?.code == .notFound)
        await client.shutdown()

        let spans = tracer.memory.finishedSpans
        #expect(spans.count == 2)
        let ok = try #require(spans.first)
        #expect(ok.operationName == "chorus.ConductorBridge/GetDayProof")
        #expect(ok.kind == .client)
        #expect(ok.attributes["rpc.system"]?.toSpanAttribute() == .string("grpc"))
        #expect(ok.attributes["rpc.service"]?.toSpanAttribute() == .string("chorus.ConductorBridge"))
        #expect(ok.attributes["rpc.method"]?.toSpanAttribute() == .string("GetDayProof"))
        #expect(ok.attributes["rpc.grpc.status_code"]?.toSpanAttribute() == .int64(0))
        #expect(ok.attributes["server.address"]?.toSpanAttribute() == .string("127.0.0.1"))
        #expect(ok.attributes["server.port"]?.toSpanAttribute() == .int64(Int64(server.port)))
        #expect(ok.events.map(\.name) == ["attempt", "retry", "attempt"])
        #expect(ok.status == nil)

        let failed = try #require(spans.last)
        #expect(failed.attributes["rpc.grpc.status_code"]?.toSpanAttribute() == .int64(5))
        #expect(failed.status?.code == .error)
        #expect(failed.errors.count == 1)

        let attempts = server.log().filter { $0.day == 3 }
        #expect(attempts.count == 2)
        for attempt in attempts {
            #expect(attempt.metadata["traceparent"] == "00-\(ok.traceID)-\(ok.spanID)-01")
        }
        #expect(server.log().filter { $0.day == 5000 }.allSatisfy { $0.metadata["traceparent"]?.contains(failed.traceID) == true })
    }

    @Test func theCallersContextIsTheParentOfTheCallSpan() async throws {
        let server = try await ReferenceConductor.start()
        let tracer = W3CTestTracer()
        let client = try ConductorClient(configuration: try ConductorConfiguration(baseURL: server.url), tracer: tracer)
        let parent = tracer.startSpan("handle request", context: .topLevel, ofKind: .server)
        try await ServiceContext.withValue(parent.context) {
            _ = try await client.submit(ConductorEvent(eventType: "traced", epoch: 1))
        }
        parent.end()
        await client.shutdown()
        let call = try #require(tracer.memory.finishedSpans.first { $0.operationName == "chorus.ConductorBridge/SubmitEvent" })
        #expect(call.traceID == parent.traceID)
        #expect(call.parentSpanID == parent.spanID)
    }
}

/// An in-memory tracer whose IDs have W3C's shape and which injects a W3C `traceparent`, as an
/// OpenTelemetry tracer does.
struct W3CTestTracer: Tracer {
    let memory: InMemoryTracer

    init() {
        let next = Locked(0)
        @Sendable func hex(_ digits: Int) -> String {
            let value = next.withLock { $0 += 1; return $0 }
            return String(format: "%0\(digits)x", value)
        }
        memory = InMemoryTracer(idGenerator: .init(nextTraceID: { hex(32) }, nextSpanID: { hex(16) }))
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        memory.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {}
}
