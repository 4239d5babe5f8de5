import LockedState

/// Sends `authorization: Bearer <token>` with every call, the token coming from an async provider
/// (an OAuth client, a secret store, ``FileTokenSource``).
///
/// - The token is cached until its ``BearerToken/lifetime`` is nearly over (the last tenth, at
///   most 60 s, is left out); concurrent calls that find no valid token share one provider call.
/// - When the server answers UNAUTHENTICATED, the token that was rejected is dropped, one new
///   token is fetched (single-flight: a hundred calls rejected together cause one provider call),
///   and the call is sent once more with it. A second UNAUTHENTICATED is the caller's error.
/// - A provider that throws fails the call with UNAUTHENTICATED, naming the provider's error but
///   never a token.
public struct BearerTokenInterceptor: ConductorInterceptor {
    private let cache: BearerTokenCache

    /// Tokens from `provider`, which is called when no valid token is held.
    public init(provider: @escaping @Sendable () async throws -> BearerToken) {
        cache = BearerTokenCache(provider: provider, clock: ContinuousClock())
    }

    /// Tokens from `provider`, with expiry read from `clock` (tests pass a manual clock).
    init<C: Clock>(provider: @escaping @Sendable () async throws -> BearerToken, clock: C) where C.Duration == Duration {
        cache = BearerTokenCache(provider: provider, clock: clock)
    }

    /// Adds the token, and on UNAUTHENTICATED retries once with a fresh one.
    public func intercept(_ call: ConductorCall, next: ConductorCall.Next) async throws(ConductorError) -> ConductorCallResult {
        let token = try await cache.token(method: call.method)
        do {
            return try await next(Self.authorized(call, token))
        } catch where error.code == .unauthenticated {
            let fresh = try await cache.token(replacing: token, method: call.method)
            return try await next(Self.authorized(call, fresh))
        }
    }

    private static func authorized(_ call: ConductorCall, _ token: String) throws(ConductorError) -> ConductorCall {
        var call = call
        do {
            try call.metadata.replace("authorization", with: "Bearer \(token)")
        } catch {
            throw ConductorError(kind: .invalidRequest, code: .unauthenticated,
                                 message: "the bearer token provider returned a token that is not printable ASCII",
                                 method: call.method)
        }
        return call
    }
}

/// The token held by a ``BearerTokenInterceptor``, fetched single-flight.
final class BearerTokenCache: Sendable {
    private struct Held {
        var value: String
        var refreshAt: Duration?
    }

    private enum State {
        case empty
        case fetching(Task<Held, any Error>)
        case held(Held)
    }

    private let provider: @Sendable () async throws -> BearerToken
    private let now: @Sendable () -> Duration
    private let state = Locked<State>(.empty)

    init<C: Clock>(provider: @escaping @Sendable () async throws -> BearerToken, clock: C) where C.Duration == Duration {
        self.provider = provider
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
    }

    /// A valid token: the one held, or a new one.
    func token(method: ConductorMethod) async throws(ConductorError) -> String {
        try await token(replacing: nil, method: method)
    }

    /// A token other than `rejected` (a new one unless another call already replaced it).
    func token(replacing rejected: String?, method: ConductorMethod) async throws(ConductorError) -> String {
        enum Next { case use(String), wait(Task<Held, any Error>) }
        let now = now()
        let next = state.withLock { state -> Next in
            switch state {
            case .held(let held) where held.value != rejected && held.refreshAt.map({ now < $0 }) ?? true:
                return .use(held.value)
            case .fetching(let task):
                return .wait(task)
            case .empty, .held:
                let task = Task { [provider, self] in
                    let token = try await provider()
                    let refreshAt = token.lifetime.map { lifetime in self.now() + lifetime - min(lifetime / 10, .seconds(60)) }
                    return Held(value: token.value, refreshAt: refreshAt)
                }
                state = .fetching(task)
                return .wait(task)
            }
        }
        let task: Task<Held, any Error>
        switch next {
        case .use(let value): return value
        case .wait(let fetch): task = fetch
        }
        do {
            let held = try await task.value
            state.withLock { state in
                if case .fetching = state { state = .held(held) }
            }
            return held.value
        } catch {
            state.withLock { state in
                if case .fetching = state { state = .empty }
            }
            throw ConductorError(kind: .invalidRequest, code: .unauthenticated,
                                 message: "the bearer token provider failed: \(error)", method: method)
        }
    }
}
