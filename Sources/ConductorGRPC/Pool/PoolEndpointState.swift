import BridgeResilience

/// One endpoint address inside the pool state machine: its health, its circuit breaker and its
/// connection slots.
struct PoolEndpointState: Sendable {
    let shared: PoolEndpoint
    var serving = true
    var breaker: CircuitBreakerStateMachine
    /// Connection attempts in a row, across the endpoint's slots, that ended before the server's
    /// SETTINGS; at the breaker threshold the endpoint counts as unreachable (breaker open).
    var failedConnects = 0
    var slots: [PoolSlot]

    /// Whether the breaker keeps calls away now (open, and not yet due for a probe).
    func breakerBlocks(at now: MonotonicInstant) -> Bool {
        let snapshot = breaker.snapshot
        switch snapshot.state {
        case .closed: return false
        case .halfOpen: return false
        case .open: return snapshot.openUntil.map { now < $0 } ?? true
        }
    }

    /// Whether the breaker was opened because no connection could be made.
    var isUnreachable: Bool {
        breaker.snapshot.state == .open && breaker.snapshot.openUntil == nil && !breaker.snapshot.isIsolated
    }
}
