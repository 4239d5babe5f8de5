import ConductorGRPC
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A small HTTP service in front of a Chorus Conductor: it relays events and day proofs, and
/// serves the client's metrics to Prometheus (see README.md).
///
/// The conductor client, the HTTP server and the heartbeat run in one `ServiceGroup`. SIGTERM
/// (or SIGINT) shuts them down gracefully in reverse order: the heartbeat stops, the HTTP server
/// finishes its requests, then the client lets its last calls finish and closes its connections.
/// The process then exits 0.
@main
enum EventRelay {
    static func main() async {
        var logger = Logger(label: "event-relay")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

        let settings: RelaySettings
        let configuration: ConductorConfiguration
        do {
            settings = try RelaySettings.fromEnvironment()
        } catch {
            exitInvalid(error.description, logger: logger)
        }
        do {
            // CONDUCTOR_BASE_URL and every other CONDUCTOR_* variable; one error lists all bad ones.
            configuration = try ConductorConfiguration.fromEnvironment()
        } catch {
            exitInvalid(error.message, logger: logger)
        }

        // Before the client exists: it records into the backend bootstrapped when it is made.
        let registry = PrometheusMetrics.bootstrap()
        let conductor: any ConductorService
        do {
            conductor = try configuration.makeService(logger: logger)
        } catch {
            exitInvalid(error.message, logger: logger)
        }

        let app = Application(
            router: RelayRoutes(conductor: conductor, registry: registry).router(),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port)),
            logger: logger
        )

        // Order matters: on shutdown the group stops services from the last to the first, so the
        // client, which the others call, goes last.
        var services: [any Service] = [conductor, app]
        if let interval = settings.heartbeatInterval {
            services.append(Heartbeat(conductor: conductor, interval: interval, logger: logger))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            logger.critical("the relay stopped: \(error)")
            exit(1)
        }
        logger.info("the relay shut down cleanly")
    }

    /// Start-up failed on a setting: says which, and exits 2 (as `conductor-smoke` does).
    static func exitInvalid(_ message: String, logger: Logger) -> Never {
        logger.critical("\(message)")
        exit(2)
    }
}
