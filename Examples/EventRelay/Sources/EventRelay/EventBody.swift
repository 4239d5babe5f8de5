import ConductorGRPC

/// The JSON body of `POST /events`: `{"event_type": "message.created", "epoch": 7, "payload": "hello"}`.
///
/// The payload is text here to keep `curl` examples short; the conductor itself takes bytes.
struct EventBody: Decodable {
    var eventType: String
    var epoch: Int32
    var payload: String?
    var metadata: [String: String]?

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type", epoch, payload, metadata
    }

    var event: ConductorEvent {
        ConductorEvent(eventType: eventType, epoch: epoch, payload: Array((payload ?? "").utf8), metadata: metadata ?? [:])
    }
}
