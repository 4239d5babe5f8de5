/// Counters of an ``AsyncCache`` since it was created, read atomically.
public struct CacheStatistics: Sendable, Hashable {
    /// Lookups answered with a fresh value.
    public private(set) var hits = 0
    /// Lookups answered by rethrowing a cached failure.
    public private(set) var negativeHits = 0
    /// Lookups that found nothing fresh and waited for a load.
    public private(set) var misses = 0
    /// Loader invocations (at most one per key at a time, however many lookups missed).
    public private(set) var loads = 0
    /// Entries dropped because the cache was full.
    public private(set) var evictions = 0
    /// Lookups answered with an expired value after a failed load.
    public private(set) var staleServed = 0

    /// Adds `times` occurrences of `event` to its counter.
    @usableFromInline
    mutating func count(_ event: CacheEvent, times: Int = 1) {
        switch event {
        case .hit: hits += times
        case .negativeHit: negativeHits += times
        case .miss: misses += times
        case .load: loads += times
        case .eviction: evictions += times
        case .staleServed: staleServed += times
        }
    }
}
