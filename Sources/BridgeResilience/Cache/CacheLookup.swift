/// The answer of ``AsyncCache/value(for:load:)``.
public struct CacheLookup<Value: Sendable>: Sendable {
    /// The value: fresh from the cache or the loader, or stale (see ``isStale``).
    public let value: Value
    /// Whether the value is an expired entry served because the load failed with an error that
    /// ``AsyncCacheConfiguration/staleIfError`` accepts.
    public let isStale: Bool

    @usableFromInline
    init(value: Value, isStale: Bool) {
        self.value = value
        self.isStale = isStale
    }
}
