import BridgeResilience

/// The right to run one call on one connection: taken from the pool with
/// ``ChannelPool/checkout(avoiding:deadline:method:)`` and given back with ``ChannelPool/checkin(_:failed:)``.
struct PoolLease: Sendable {
    let endpoint: PoolEndpoint
    let slot: Int
    let connection: HTTP2Connection
    let permit: CircuitBreakerPermit
}
