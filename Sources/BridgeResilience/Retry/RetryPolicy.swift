/// Decides whether and when a failed call is retried: safety rules, full-jitter backoff,
/// server pushback, the call's deadline and the shared ``RetryBudget``.
///
/// The policy is a value with no state of its own; the caller keeps two counters per call and
/// asks for a ``RetryDecision`` after each failed attempt:
///
/// ```swift
/// var attempts = 0, transparentRetries = 0
/// while true {
///     attempts += 1
///     do { return try await attempt() } catch {
///         switch policy.decision(after: classify(error), safety: .idempotent, attempts: attempts,
///                                transparentRetries: transparentRetries,
///                                timeRemaining: clock.now().duration(to: deadline),
///                                pushback: pushback(of: error), budget: budget) {
///         case .retry(let delay, let transparent):
///             if transparent { transparentRetries += 1 }
///             try await Task.sleep(for: delay)
///         case .stop:
///             throw error
///         }
///     }
/// }
/// ```
///
/// Rules, in order:
/// 1. No time left before the deadline: stop (``RetryStopReason/deadline``).
/// 2. The server pushed back with "stop": stop (``RetryStopReason/serverPushback``).
/// 3. ``FailureClass/notSent``, while fewer than ``maxTransparentRetries`` transparent retries were
///    made: retry at once, transparently, for every ``CallSafety``. Past that cap a `notSent`
///    failure is an ordinary retryable failure (backoff, budget, ``maxRetries``), so a call whose
///    every channel refuses it cannot spin.
/// 4. A failure the call's safety does not allow to retry (``CallSafety/allowsRetry(after:)``): stop.
/// 5. The failure is retryable: it costs a ``RetryBudget`` token. Stop if ``maxRetries`` retries were
///    already made, or if the budget no longer allows retries.
/// 6. The delay is the server's pushback delay if it sent one, otherwise full jitter:
///    uniformly random in `0...min(backoffCap, backoffBase · 2^n)` for the n-th retry (n from 0).
/// 7. If the delay would reach or pass the deadline: stop (``RetryStopReason/deadline``).
public struct RetryPolicy: Sendable, Hashable {
    /// The allowed range of ``maxRetries``.
    public static let maxRetriesRange = 0...10

    /// How many transparent retries (of ``FailureClass/notSent`` failures) one call may make.
    public static let maxTransparentRetries = 3

    /// Retries allowed after the first attempt, in ``maxRetriesRange``; default 3.
    public let maxRetries: Int
    /// The backoff ceiling before the first retry, doubled for each further retry; default 1 s.
    public let backoffBase: Duration
    /// The largest backoff ceiling; default 10 s.
    public let backoffCap: Duration

    /// Creates a policy.
    ///
    /// `maxRetries` outside ``maxRetriesRange``, a non-positive `backoffBase` or a `backoffCap`
    /// below `backoffBase` trap: validate user input before creating the policy.
    public init(maxRetries: Int = 3, backoffBase: Duration = .seconds(1), backoffCap: Duration = .seconds(10)) {
        precondition(Self.maxRetriesRange.contains(maxRetries), "maxRetries=\(maxRetries) is out of range \(Self.maxRetriesRange)")
        precondition(backoffBase > .zero, "backoffBase must be positive")
        precondition(backoffCap >= backoffBase, "backoffCap must not be below backoffBase")
        self.maxRetries = maxRetries
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
    }

    /// Decides what to do after a failed attempt, drawing the jitter from the system's random source.
    ///
    /// See ``decision(after:safety:attempts:transparentRetries:timeRemaining:pushback:budget:using:)``.
    public func decision(
        after failure: FailureClass,
        safety: CallSafety,
        attempts: Int,
        transparentRetries: Int,
        timeRemaining: Duration,
        pushback: ServerPushback = .none,
        budget: RetryBudget? = nil
    ) -> RetryDecision {
        var generator = SystemJitterSource()
        return decision(
            after: failure,
            safety: safety,
            attempts: attempts,
            transparentRetries: transparentRetries,
            timeRemaining: timeRemaining,
            pushback: pushback,
            budget: budget,
            using: &generator
        )
    }

    /// Decides what to do after a failed attempt.
    ///
    /// Call it exactly once per failed attempt: a retryable failure takes a token from `budget`.
    ///
    /// - Parameters:
    ///   - failure: how the attempt failed.
    ///   - safety: what repeating the call may do.
    ///   - attempts: attempts made so far, including the one that just failed (at least 1).
    ///   - transparentRetries: transparent retries already granted to this call.
    ///   - timeRemaining: time left until the call's deadline.
    ///   - pushback: the server's retry advice, if any.
    ///   - budget: the shared retry budget; `nil` means unthrottled.
    ///   - generator: the source of the jitter.
    public func decision(
        after failure: FailureClass,
        safety: CallSafety,
        attempts: Int,
        transparentRetries: Int,
        timeRemaining: Duration,
        pushback: ServerPushback = .none,
        budget: RetryBudget? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> RetryDecision {
        precondition(attempts >= 1 && (0..<attempts).contains(transparentRetries), "attempts must count the failed attempt and the transparent retries")
        guard timeRemaining > .zero else {
            return .stop(.deadline)
        }
        if pushback == .stop {
            return .stop(.serverPushback)
        }
        if failure == .notSent && transparentRetries < Self.maxTransparentRetries {
            return .retry(after: .zero, transparent: true)
        }
        guard safety.allowsRetry(after: failure) else {
            return .stop(.notRetryable)
        }
        budget?.recordFailure()
        let retriesMade = attempts - 1 - transparentRetries
        guard retriesMade < maxRetries else {
            return .stop(.retriesExhausted)
        }
        if let budget, !budget.canRetry {
            return .stop(.budgetExhausted)
        }
        let delay: Duration
        if case .delay(let pushbackDelay) = pushback {
            delay = pushbackDelay
        } else {
            delay = jitteredBackoff(forRetry: retriesMade, using: &generator)
        }
        guard delay < timeRemaining else {
            return .stop(.deadline)
        }
        return .retry(after: delay, transparent: false)
    }

    /// The upper bound of the backoff before retry `retry` (0 for the first retry):
    /// `min(backoffCap, backoffBase · 2^retry)`.
    public func backoffCeiling(forRetry retry: Int) -> Duration {
        precondition(retry >= 0, "retry numbers start at 0")
        return .nanoseconds(ceilingNanoseconds(forRetry: retry))
    }

    /// A full-jitter backoff: uniformly random in `0...backoffCeiling(forRetry: retry)`, to the nanosecond.
    private func jitteredBackoff(forRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        .nanoseconds(Int64.random(in: 0...ceilingNanoseconds(forRetry: retry), using: &generator))
    }

    private func ceilingNanoseconds(forRetry retry: Int) -> Int64 {
        let cap = backoffCap.saturatedNanoseconds
        let base = backoffBase.saturatedNanoseconds
        guard retry < Int64.bitWidth - 1, base <= cap >> Int64(retry) else {
            return cap
        }
        return base << Int64(retry)
    }
}

/// The system's random source, given a stored byte. Swift places every value of an empty type at
/// one shared global address, so `inout` use of a bare `SystemRandomNumberGenerator` on two threads
/// is reported by ThreadSanitizer as a race; with storage, each caller's generator has its own.
private struct SystemJitterSource: RandomNumberGenerator {
    private var system = SystemRandomNumberGenerator()
    private var distinctAddress: UInt8 = 0

    mutating func next() -> UInt64 {
        system.next()
    }
}
