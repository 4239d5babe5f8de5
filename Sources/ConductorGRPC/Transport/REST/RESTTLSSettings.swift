/// The TLS files libcurl reads for `https://` conductors (`CONDUCTOR_TLS_*`).
struct RESTTLSSettings: Sendable, Hashable {
    var caFile: String?
    var certificateFile: String?
    var keyFile: String?
}
