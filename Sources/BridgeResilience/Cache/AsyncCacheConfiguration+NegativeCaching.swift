extension AsyncCacheConfiguration {
    /// Remembers load failures for a short time, so that repeated lookups of, say, a missing key
    /// rethrow the failure instead of loading again.
    ///
    /// A failed load whose error ``isCacheable`` accepts is stored for ``ttl`` (unless a stale value
    /// was served instead); lookups in that window rethrow the same error.
    public struct NegativeCaching: Sendable {
        /// How long a failure is remembered; default 5 s.
        public var ttl: Duration
        /// Which errors are remembered (e.g. "not found"); called outside the cache's lock.
        public var isCacheable: @Sendable (any Error) -> Bool

        /// Remembers the failures `isCacheable` accepts for `ttl`.
        public init(ttl: Duration = .seconds(5), isCacheable: @escaping @Sendable (any Error) -> Bool) {
            self.ttl = ttl
            self.isCacheable = isCacheable
        }
    }
}
