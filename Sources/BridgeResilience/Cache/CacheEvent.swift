/// One countable thing an ``AsyncCache`` did, reported to its `onEvent` callback.
///
/// Each event increments the ``CacheStatistics`` counter of the same name.
public enum CacheEvent: Sendable, Hashable, CaseIterable {
    /// A lookup found a fresh value.
    case hit
    /// A lookup found a cached failure and rethrew it without loading.
    case negativeHit
    /// A lookup found nothing fresh and waited for a load (its own or a shared one).
    case miss
    /// The loader was invoked.
    case load
    /// The least recently used entry was dropped to make room.
    case eviction
    /// A lookup was answered with an expired value because the load failed.
    case staleServed
}
