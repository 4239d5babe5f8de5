import Foundation

/// The relay's own settings, from the environment. Everything about the conductor comes from the
/// library's `CONDUCTOR_*` variables instead (see `ConductorConfiguration.fromEnvironment()`).
struct RelaySettings {
    /// `HOST`: the address the HTTP server binds to (default `127.0.0.1`; `0.0.0.0` in a container).
    var host = "127.0.0.1"
    /// `PORT`: the HTTP server's port (default 8080).
    var port = 8080
    /// `HEARTBEAT_SECONDS`: how often the heartbeat submits an event (default 10; 0 turns it off).
    var heartbeatInterval: Duration? = .seconds(10)

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) -> RelaySettings {
        var settings = RelaySettings()
        if let host = environment["HOST"], !host.isEmpty {
            settings.host = host
        }
        if let text = environment["PORT"] {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw Invalid(description: "PORT=\(text) is not a port number (0...65535)")
            }
            settings.port = port
        }
        if let text = environment["HEARTBEAT_SECONDS"] {
            guard let seconds = Int(text), seconds >= 0 else {
                throw Invalid(description: "HEARTBEAT_SECONDS=\(text) is not a whole number of seconds (0 turns the heartbeat off)")
            }
            settings.heartbeatInterval = seconds == 0 ? nil : .seconds(seconds)
        }
        return settings
    }
}
