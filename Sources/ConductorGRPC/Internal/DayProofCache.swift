import BridgeResilience

/// Day proofs by day number: canonical proofs never change, so they stay until evicted;
/// non-canonical ones expire after `CONDUCTOR_CACHE_TTL`; NOT_FOUND is remembered briefly;
/// concurrent misses for one day share one RPC.
struct DayProofCache: Sendable {
    /// How long a NOT_FOUND answer is remembered.
    static let notFoundTTL: Duration = .seconds(5)

    let storage: AsyncCache<Int32, DayProof>

    init(configuration: ConductorConfiguration, metrics: ConductorMetrics) {
        let isTransportClass: @Sendable (any Error) -> Bool = { error in DayProofCache.isTransportClass(error) }
        let notFound = AsyncCacheConfiguration.NegativeCaching(ttl: Self.notFoundTTL) { error in
            (error as? ConductorError)?.code == .notFound
        }
        storage = AsyncCache(configuration: AsyncCacheConfiguration(
            capacity: configuration.cacheSize, defaultTTL: configuration.cacheTTL,
            staleIfError: configuration.serveStaleDayProofs ? isTransportClass : nil, negativeCaching: notFound)
        ) { event in
            switch event {
            case .hit, .negativeHit, .staleServed: metrics.cacheHits.increment()
            case .miss: metrics.cacheMisses.increment()
            case .load, .eviction: break
            }
        }
    }

    /// The proof held for `day`, loading it with `load` on a miss (callers try
    /// `storage.cachedValue(for:)` first, before they build `load`).
    func proof(
        for day: Int32,
        load: @escaping @Sendable (Int32) async throws(ConductorError) -> DayProof
    ) async throws(ConductorError) -> DayProof {
        do {
            return try await storage.value(for: day) { day in
                let proof = try await load(day)
                return LoadedValue(proof, lifetime: proof.canonical ? .permanent : .defaultTTL)
            }.value
        } catch {
            throw Self.conductorError(from: error)
        }
    }

    /// The cache rethrows the loader's `ConductorError` (typed at the loader) and adds only
    /// `CancellationError`, for a waiter cancelled while the load goes on; anything else would be
    /// a bug in the cache, reported as INTERNAL rather than disguised as a cancellation.
    static func conductorError(from error: any Error) -> ConductorError {
        switch error {
        case let error as ConductorError:
            error
        case is CancellationError:
            ConductorError(kind: .cancelled, code: .cancelled, message: "call cancelled while waiting for the day proof",
                           method: .getDayProof)
        default:
            ConductorError(kind: .rpcFailed, code: .internalError, message: "day-proof cache failed: \(error)",
                           method: .getDayProof)
        }
    }

    /// Stores a proof fetched outside the cache.
    func store(_ proof: DayProof) {
        storage.insert(proof, for: proof.dayNumber, lifetime: proof.canonical ? .permanent : .defaultTTL)
    }

    /// Errors that mean "the conductor could not be reached", for which a stale proof may be served.
    static func isTransportClass(_ error: any Error) -> Bool {
        guard let error = error as? ConductorError else { return false }
        switch error.kind {
        case .connectionFailed, .circuitOpen, .deadlineExceeded: return true
        default: return error.code == .unavailable
        }
    }
}
