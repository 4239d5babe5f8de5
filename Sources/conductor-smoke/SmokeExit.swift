/// The exit codes of `conductor-smoke` (also in `--help` and the README).
enum SmokeExit {
    /// Every check passed.
    static let passed: Int32 = 0
    /// A check failed.
    static let checkFailed: Int32 = 1
    /// Bad arguments or configuration; the message lists what is wrong.
    static let badConfiguration: Int32 = 2
    /// The conductor could not be reached.
    static let unreachable: Int32 = 3
}
