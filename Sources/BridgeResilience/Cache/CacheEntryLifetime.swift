/// How long a loaded value stays fresh in an ``AsyncCache``.
public enum CacheEntryLifetime: Sendable, Hashable {
    /// The cache's ``AsyncCacheConfiguration/defaultTTL``.
    case defaultTTL
    /// This long after it was stored.
    case ttl(Duration)
    /// Never expires; it leaves the cache only when evicted or removed (e.g. a canonical day proof).
    case permanent
}
