import ConductorGRPC

/// A client for a test server with test-friendly settings.
func makeClient(
    _ url: String,
    timeout: Duration = .seconds(10),
    configure: (inout ConductorConfiguration) -> Void = { _ in }
) throws -> ConductorClient {
    var configuration = try ConductorConfiguration(baseURL: url)
    configuration.timeout = timeout
    configure(&configuration)
    return try ConductorClient(configuration: configuration)
}

/// Runs `body` and returns the ConductorError it throws, or nil if it succeeds.
func conductorError<T>(_ body: () async throws(ConductorError) -> T) async -> ConductorError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// A client of `server` in the server's protocol (REST mode for the reference REST conductor).
func makeClient(
    for server: ReferenceConductor,
    timeout: Duration = .seconds(10),
    configure: (inout ConductorConfiguration) -> Void = { _ in }
) throws -> ConductorClient {
    try makeClient(server.url, timeout: timeout) { configuration in
        if server.serverProtocol == .rest { configuration.wireProtocol = .http }
        configure(&configuration)
    }
}
