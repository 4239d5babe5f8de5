/// What an ``AsyncCache`` holds for one key: a value or a remembered failure, and when it expires.
@usableFromInline
struct CacheEntry<Value: Sendable>: Sendable {
    @usableFromInline
    enum Content: Sendable {
        case value(Value)
        case failure(any Error)
    }

    @usableFromInline var content: Content
    /// When the entry stops being fresh; `nil` for a permanent entry.
    @usableFromInline var expiry: MonotonicInstant?

    @inlinable
    init(content: Content, expiry: MonotonicInstant?) {
        self.content = content
        self.expiry = expiry
    }

    @inlinable
    func isFresh(clock: any ResilienceClock) -> Bool {
        guard let expiry else {
            return true
        }
        return clock.now() < expiry
    }
}
