import Tracing

/// One client span per call, with swift-distributed-tracing, named and attributed after
/// OpenTelemetry's RPC conventions (`chorus.ConductorBridge/GetDayProof`; `rpc.system`,
/// `rpc.service`, `rpc.method`, `rpc.grpc.status_code`, `server.address`, `server.port`). Each
/// attempt and each retry is a span event. The tracer injects the span's context (W3C
/// `traceparent`/`tracestate` with swift-otel) into the call's metadata, so every attempt carries it.
///
/// When no tracer is bootstrapped (``CallTracing/tracer`` is nil) none of this runs: the call path
/// makes no span, reads no task-local and allocates nothing for tracing.
enum CallSpan {
    static func run(
        _ call: ConductorCall,
        tracer: any Tracer,
        body: (ConductorCall, @escaping @Sendable (ResilientCaller.CallEvent) -> Void) async throws(ConductorError)
            -> ConductorCallResult
    ) async throws(ConductorError) -> ConductorCallResult {
        let path = call.method.path.dropFirst()
        let span = tracer.startSpan(String(path), context: ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        if let slash = path.firstIndex(of: "/") {
            span.attributes["rpc.system"] = "grpc"
            span.attributes["rpc.service"] = String(path[..<slash])
            span.attributes["rpc.method"] = String(path[path.index(after: slash)...])
        }
        var call = call
        tracer.inject(span.context, into: &call.metadata, using: MetadataInjector())
        let onEvent: @Sendable (ResilientCaller.CallEvent) -> Void = { event in
            switch event {
            case .attempt(let number, let endpoint):
                var attributes = SpanAttributes()
                attributes["rpc.attempt"] = number
                attributes["server.endpoint"] = endpoint.description
                span.addEvent(SpanEvent(name: "attempt", attributes: attributes))
            case .retry(let reason, let delay):
                var attributes = SpanAttributes()
                attributes["retry.reason"] = reason
                attributes["retry.delay_ms"] = Double(delay.components.seconds) * 1000 + Double(delay.components.attoseconds) / 1e15
                span.addEvent(SpanEvent(name: "retry", attributes: attributes))
            case .hedge(let endpoint):
                var attributes = SpanAttributes()
                attributes["server.endpoint"] = endpoint.description
                span.addEvent(SpanEvent(name: "hedge", attributes: attributes))
            }
        }
        do {
            let result = try await body(call, onEvent)
            span.attributes["rpc.grpc.status_code"] = 0
            setServer(result.endpoint, on: span)
            return result
        } catch {
            span.attributes["rpc.grpc.status_code"] = error.code.rawValue
            if let endpoint = error.endpoint { setServer(endpoint, on: span) }
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: error.code.name))
            throw error
        }
    }

    /// `host:port` or `[v6]:port` into `server.address` and `server.port`.
    private static func setServer(_ endpoint: String, on span: any Span) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]) else { return }
        var host = endpoint[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        span.attributes["server.address"] = String(host)
        span.attributes["server.port"] = port
    }
}

/// Writes a tracer's propagation headers into request metadata (invalid names or values, which a
/// well-behaved propagator never produces, are skipped rather than failing the call).
struct MetadataInjector: Injector {
    func inject(_ value: String, forKey key: String, into metadata: inout ConductorMetadata) {
        try? metadata.replace(key.lowercased(), with: value)
    }
}

/// The tracer a client uses: nil when none is bootstrapped, so that calls skip tracing entirely.
struct CallTracing: Sendable {
    let tracer: (any Tracer)?

    /// `tracer`, or the bootstrapped one (read once, at client creation, like the metrics backend).
    init(_ tracer: (any Tracer)?) {
        let chosen = tracer ?? InstrumentationSystem.tracer
        self.tracer = chosen is NoOpTracer ? nil : chosen
    }
}
