/// What an ``AsyncCache`` loader returns: the value and how long it stays fresh.
public struct LoadedValue<Value: Sendable>: Sendable {
    /// The loaded value.
    public var value: Value
    /// How long the value stays fresh once stored.
    public var lifetime: CacheEntryLifetime

    /// Wraps a loaded value; by default it lives for the cache's default TTL.
    public init(_ value: Value, lifetime: CacheEntryLifetime = .defaultTTL) {
        self.value = value
        self.lifetime = lifetime
    }
}
