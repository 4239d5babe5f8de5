/// An access token for `authorization: Bearer …`, and how long it may be used.
public struct BearerToken: Sendable, Hashable {
    /// The token itself (never logged).
    public var value: String
    /// How long after it was obtained the token stays valid; `nil` means until the server rejects
    /// it. The interceptor fetches a new one a little before this runs out.
    public var lifetime: Duration?

    /// A token valid for `lifetime` (nil: until rejected).
    public init(_ value: String, lifetime: Duration? = nil) {
        self.value = value
        self.lifetime = lifetime
    }
}
