/// Whether ``ConductorClient/dayProof(_:options:)`` may answer from the cache.
public enum ConductorCachePolicy: Sendable, Hashable {
    /// Answer from the cache when it holds the day; concurrent misses share one RPC.
    case useCache
    /// Always ask the conductor, then refresh the cache with the answer.
    case reload
}
