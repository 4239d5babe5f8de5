import ConductorGRPC

/// The outcome of one check of the smoke run.
struct CheckResult: Sendable {
    /// How a check ended.
    enum Status: String, Sendable {
        /// The call answered as expected.
        case passed
        /// The call failed, or answered something unexpected.
        case failed
        /// GetDayProof answered NOT_FOUND and `--allow-missing` accepts that.
        case notFound = "not_found"
        /// Not run, because the conductor could not be reached.
        case skipped

        /// Whether the check counts as a success for the exit code.
        var isSuccess: Bool { self == .passed || self == .notFound }
    }

    /// A stable identifier: `health`, `day_proof`, `submit_event`, `submit_batch` or `load`.
    var id: String
    /// The RPC as shown to people, e.g. `GetDayProof(1)`.
    var name: String
    var status: Status
    /// What the conductor answered, or the error.
    var detail: String
    /// The gRPC status code of the answer (`OK` on success).
    var code: ConductorError.Code?
    /// Wall-clock time of the check in milliseconds.
    var milliseconds: Double
}
