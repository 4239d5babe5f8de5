extension ConductorConfiguration {
    /// Checks the settings of a configuration made in Swift against ``ConductorSetting/all`` (the
    /// variables' ranges, wider where the table says why); throws one error listing every problem.
    public func validate() throws(ConductorError) {
        var problems = ConductorSetting.all.compactMap { $0.check(self) }
        if retryMaxDelay < retryDelay { problems.append("retryMaxDelay must not be smaller than retryDelay") }
        if !problems.isEmpty {
            throw .invalidConfiguration("invalid configuration:\n  " + problems.joined(separator: "\n  "))
        }
    }
}
