/// Size, lifetimes and failure handling of an ``AsyncCache``.
public struct AsyncCacheConfiguration: Sendable {
    /// The most entries held (fresh, expired and negative alike). At least 1; default 1000.
    public var capacity: Int

    /// The lifetime of values loaded with ``CacheEntryLifetime/defaultTTL``; default 300 s.
    public var defaultTTL: Duration

    /// Serve-stale: when a load fails with an error this predicate accepts (typically "the
    /// dependency is unreachable"), lookups receive the expired value still held for the key, if
    /// any, flagged ``CacheLookup/isStale``. `nil` (the default) turns serve-stale off.
    ///
    /// Called outside the cache's lock.
    public var staleIfError: (@Sendable (any Error) -> Bool)?

    /// Negative caching of load failures; `nil` (the default) turns it off.
    public var negativeCaching: NegativeCaching?

    /// Creates a configuration; every parameter defaults to the documented value.
    public init(
        capacity: Int = 1000,
        defaultTTL: Duration = .seconds(300),
        staleIfError: (@Sendable (any Error) -> Bool)? = nil,
        negativeCaching: NegativeCaching? = nil
    ) {
        self.capacity = capacity
        self.defaultTTL = defaultTTL
        self.staleIfError = staleIfError
        self.negativeCaching = negativeCaching
    }
}
