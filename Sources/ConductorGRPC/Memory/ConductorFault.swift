/// A way for ``InMemoryConductor`` to misbehave, so that a service's resilience settings (timeouts,
/// retries, the breaker) can be tested without a network: inject one with
/// ``InMemoryConductor/inject(_:into:when:)``.
public enum ConductorFault: Sendable, Hashable {
    /// Answers after `delay` (a call deadline that comes first ends the call with `DEADLINE_EXCEEDED`).
    case delay(Duration)
    /// Never answers: the call ends at its deadline (`DEADLINE_EXCEEDED`), or when it is cancelled.
    case hang
    /// Fails with `code` before the call has any effect; `message` defaults to `injected <CODE>`.
    case fail(ConductorError.Code, message: String? = nil)
    /// Applies the call, then loses the answer, as a connection that drops after the conductor
    /// acted: the caller sees `UNAVAILABLE` although a submit took effect (``ConductorClient``
    /// retries it only when ``ConductorConfiguration/submitsAreDeduplicated`` says that is safe).
    case loseReply
}

/// Which calls of a method an injected ``ConductorFault`` affects, counted from its injection.
public struct ConductorFaultPattern: Sendable, Hashable {
    enum Rule: Hashable {
        case always
        case first(Int)
        case every(Int)
    }

    let rule: Rule

    /// Every call.
    public static let always = ConductorFaultPattern(rule: .always)

    /// The next `count` calls; then the fault is removed.
    public static func next(_ count: Int) -> ConductorFaultPattern {
        ConductorFaultPattern(rule: .first(max(0, count)))
    }

    /// Every `n`th call: the `n`th, the `2n`th, and so on (`every(1)` is every call).
    public static func every(_ n: Int) -> ConductorFaultPattern {
        ConductorFaultPattern(rule: .every(max(1, n)))
    }

    /// Whether the `call`th call since the injection (1-based) is affected.
    func applies(toCall call: Int) -> Bool {
        switch rule {
        case .always: true
        case .first(let count): call <= count
        case .every(let n): call % n == 0
        }
    }

    /// Whether the pattern can affect no call after the `call`th.
    func isSpent(afterCall call: Int) -> Bool {
        if case .first(let count) = rule { return call >= count }
        return false
    }
}
