extension InMemoryConductor {
    /// How one call of the in-memory conductor ended: the direct API turns it into a value or a
    /// ``ConductorError``, the in-process transport into what a stream would have carried.
    enum CallOutcome<Value> {
        /// The conductor answered.
        case answered(Value)
        /// The conductor answered with a status other than OK.
        case failed(ConductorError)
        /// The call's deadline passed while an injected delay or hang held it.
        case deadlinePassed
        /// The caller cancelled the call while an injected delay or hang held it.
        case cancelled
        /// The call took effect and its answer was lost (``ConductorFault/loseReply``).
        case replyLost

        /// The value, or the error a direct caller gets.
        func value(method: ConductorMethod, deadline: Duration?) throws(ConductorError) -> Value {
            switch self {
            case .answered(let value):
                return value
            case .failed(let error):
                throw error
            case .deadlinePassed:
                let limit = deadline.map { " of \($0)" } ?? ""
                throw InMemoryConductor.error(method, code: .deadlineExceeded, message: "the call did not finish within its deadline\(limit)")
            case .cancelled:
                throw ConductorError(kind: .cancelled, code: .cancelled, message: "the call was cancelled",
                                     method: method, endpoint: InMemoryConductor.endpointName, attempts: 1)
            case .replyLost:
                throw InMemoryConductor.error(method, code: .unavailable,
                                              message: "the answer was lost after the in-memory conductor applied the call")
            }
        }
    }

    /// A fault as injected, with the calls of its method seen since.
    struct InjectedFault {
        let fault: ConductorFault
        let pattern: ConductorFaultPattern
        var calls = 0
    }
}

extension InMemoryConductor.State {
    /// Counts a call of `method` for every fault injected into it and returns the first fault that
    /// picks the call; spent faults are removed.
    mutating func pickFault(for method: ConductorMethod) -> ConductorFault? {
        guard var injected = faults[method] else { return nil }
        var picked: ConductorFault?
        for index in injected.indices {
            injected[index].calls += 1
            if picked == nil, injected[index].pattern.applies(toCall: injected[index].calls) { picked = injected[index].fault }
        }
        injected.removeAll { $0.pattern.isSpent(afterCall: $0.calls) }
        faults[method] = injected.isEmpty ? nil : injected
        return picked
    }
}
