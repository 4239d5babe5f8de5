import ConductorGRPC

/// What `conductor-smoke --outbox` prints: the durable outbox's state and its dead letters.
struct OutboxReport {
    let path: String
    let statistics: ConductorOutbox.Statistics
    let deadLetters: [ConductorOutbox.DeadLetter]

    var text: String {
        var lines = ["outbox \(path): \(statistics.events) events waiting (\(statistics.bytes) bytes)"
            + (statistics.oldestEventAge.map { ", the oldest accepted \(Self.seconds($0)) s ago" } ?? "")
            + "; \(statistics.deadLetters) dead letters"]
        for letter in deadLetters {
            lines.append("  dead letter \(letter.sequence): \(letter.code.name): \(letter.message) "
                + "(event type \(letter.event.eventType), epoch \(letter.event.epoch), \(letter.event.payload.count) payload bytes)")
        }
        if statistics.deadLetters > deadLetters.count {
            lines.append("  … and \(statistics.deadLetters - deadLetters.count) more")
        }
        return lines.joined(separator: "\n")
    }

    var jsonObject: [String: Any] {
        var outbox: [String: Any] = [
            "path": path, "events": statistics.events, "bytes": statistics.bytes, "dead_letters": statistics.deadLetters,
            "dead_letter_samples": deadLetters.map { letter -> [String: Any] in
                ["sequence": letter.sequence, "code": letter.code.name, "message": letter.message,
                 "event_type": letter.event.eventType, "epoch": Int(letter.event.epoch)]
            },
        ]
        if let age = statistics.oldestEventAge { outbox["oldest_event_age_seconds"] = Self.seconds(age) }
        return ["version": SmokeReport.jsonVersion, "outcome": "outbox", "exit_code": 0, "outbox": outbox]
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
