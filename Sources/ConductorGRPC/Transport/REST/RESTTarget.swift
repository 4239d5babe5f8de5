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
        let created = withOptionalCString(origin.baseURL) { baseURL in
            withOptionalCString(userAgent) { userAgent in
                withOptionalCString(tls.caFile) { caFile in
                    withOptionalCString(tls.certificateFile) { certificateFile in
                        withOptionalCString(tls.keyFile) { keyFile in
                            withOptionalCString(origin.connectTo) { connectTo in
                                withOptionalCString(origin.unixSocket) { unixSocket in
                                    var spec = rest_target_spec(
                                        base_url: baseURL, user_agent: userAgent, ca_file: caFile, cert_file: certificateFile,
                                        key_file: keyFile, connect_to: connectTo, unix_socket: unixSocket)
                                    return rest_target_create(&spec)
                                }
                            }
                        }
                    }
                }
            }
        }
        guard let created else { preconditionFailure("out of memory setting up REST requests to \(origin.description)") }
        target = Pointer(value: created)
    }

    /// For ``CurlExchange``: valid while this object lives (each request holds its own reference).
    var pointer: OpaquePointer { target.value }

    deinit {
        rest_target_release(target.value)
    }
}

/// Calls `body` with a C string of `text`, or NULL.
private func withOptionalCString<Result>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}
