import CNGHTTP2Shim

/// A TLS client configuration shared by every connection of a client: TLS 1.2 or later, ALPN
/// `h2`, certificates verified against a CA file or the system trust store, an optional client
/// certificate for mutual TLS. The files are read once, when it is created.
package final class TLSContext: Sendable {
    /// Why the files could not be used.
    package struct LoadError: Error, Sendable {
        /// OpenSSL's explanation, naming the file.
        package var message: String
    }

    private let handle: ShimTLSHandle

    /// Reads the files; throws with a message naming the file that is missing, unreadable or
    /// does not match.
    package init(caFile: String?, certificateFile: String?, keyFile: String?) throws(LoadError) {
        var error = [CChar](repeating: 0, count: 512)
        let created = withOptionalCString(caFile) { ca in
            withOptionalCString(certificateFile) { certificate in
                withOptionalCString(keyFile) { key in
                    h2shim_tls_create(ca, certificate, key, &error, error.count)
                }
            }
        }
        guard let created else {
            throw LoadError(message: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        handle = ShimTLSHandle(pointer: created)
    }

    deinit {
        h2shim_tls_release(handle.pointer)
    }

    var pointer: OpaquePointer { handle.pointer }
}

/// The shim's TLS context: immutable after creation apart from its reference count and a
/// mutex-protected session slot, so it may be shared by connections on any thread.
private struct ShimTLSHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
