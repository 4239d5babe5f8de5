import LockedState

extension InMemoryConductor {
    /// The `source` of the proofs the in-memory conductor makes: `in-memory-conductor`.
    public static let proofSource = "in-memory-conductor"

    /// A proof for `day` whose ``DayProof/proofHash`` is the SHA-256 hex digest of `proof` (as the
    /// reference conductor computes it) and whose source is ``proofSource``; for building the
    /// dictionary given to ``init(dayProofs:healthStatus:)``.
    public static func makeDayProof(_ day: Int32, proof: String, canonical: Bool = true) -> DayProof {
        DayProof(dayNumber: day, proof: proof, proofHash: SHA256.hex(of: proof.utf8), canonical: canonical,
                 source: proofSource)
    }

    /// The reference conductor's days (Scripts/reference_conductor.py), the default of
    /// ``init(healthStatus:dayProofs:metricsFactory:)``:
    ///
    /// - days 1...999 are canonical: `proof-of-day-<d>`;
    /// - days 1000...1999 are not: `proof-of-day-<d>-gen<k>`, where k counts how often this
    ///   provider has served day d, from 1, so every fetch gives a new proof;
    /// - every other day has no proof (`NOT_FOUND`).
    ///
    /// Each call returns a provider with its own counts.
    public static func referenceDayProofs() -> @Sendable (Int32) -> DayProof? {
        let generations = ServeCounter()
        return { day in
            switch day {
            case 1...999:
                return makeDayProof(day, proof: "proof-of-day-\(day)", canonical: true)
            case 1000...1999:
                let generation = generations.next(day)
                return makeDayProof(day, proof: "proof-of-day-\(day)-gen\(generation)", canonical: false)
            default:
                return nil
            }
        }
    }
}

/// How often each day has been served, for the reference days' `-gen<k>` suffix.
private final class ServeCounter: Sendable {
    private let counts = Locked<[Int32: Int]>([:])

    /// Counts one more serve of `day` and returns the new count (1 for the first).
    func next(_ day: Int32) -> Int {
        counts.withLock { counts in
            counts[day, default: 0] += 1
            return counts[day, default: 0]
        }
    }
}
