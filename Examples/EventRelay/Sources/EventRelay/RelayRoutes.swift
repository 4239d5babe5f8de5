import ConductorGRPC
import Hummingbird
import Prometheus

/// The relay's HTTP API, in front of one conductor client:
///
/// | route | answer |
/// | --- | --- |
/// | `POST /events` | submits the JSON event in the body; answers its receipt (`event_hash`, `epoch`) |
/// | `GET /proofs/:day` | the day's proof, from the client's cache when it holds it |
/// | `GET /health` | the conductor's health: 200 `SERVING`, else 503 |
/// | `GET /metrics` | the Prometheus text exposition of the process's metrics |
struct RelayRoutes {
    let conductor: any ConductorService
    let registry: PrometheusCollectorRegistry

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ConductorErrorMiddleware())

        router.post("events") { request, context -> ReceiptResponse in
            let body = try await request.decode(as: EventBody.self, context: context)
            return ReceiptResponse(try await conductor.submit(body.event))
        }

        router.get("proofs/:day") { _, context -> DayProofResponse in
            let day = try context.parameters.require("day", as: Int32.self)
            return DayProofResponse(try await conductor.dayProof(day))
        }

        router.get("health") { _, _ -> Response in
            let status = try await conductor.health()
            return Response(status: status == .serving ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "\(status)\n")))
        }

        router.get("metrics") { [registry] _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(status: .ok,
                            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        return router
    }
}
