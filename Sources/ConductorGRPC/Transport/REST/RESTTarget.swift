import CRESTShim

/// What every request of one pool connection shares, handed to the REST loop once (`rest_target`
/// in `CRESTShim`): the base URL, how it is dialled, the TLS files and the fixed request headers,
/// so that a request carries only its path, metadata and body.
final class RESTTarget: Sendable {
    private struct Pointer: @unchecked Sendable {
        let value: OpaquePointer
    }

    private let target: Pointer

    /// Traps when memory ran out, as Swift's own allocations do.
    init(origin: RESTOrigin, tls: RESTTLSSettings, userAgent: String) {
        guard let created = rest_target_create(origin.baseURL, userAgent, tls.caFile, tls.certificateFile, tls.keyFile,
                                               origin.connectTo, origin.unixSocket) else {
            preconditionFailure("out of memory setting up REST requests to \(origin.description)")
        }
        target = Pointer(value: created)
    }

    /// For ``CurlExchange``: valid while this object lives (each request holds its own reference).
    var pointer: OpaquePointer { target.value }

    deinit {
        rest_target_release(target.value)
    }
}
