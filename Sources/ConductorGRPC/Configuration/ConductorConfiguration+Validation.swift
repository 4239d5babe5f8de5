import BridgeResilience

extension ConductorConfiguration {
    /// Checks the settings a Swift caller may have set out of range (the environment reader
    /// checks the same ranges); throws one error listing every problem.
    public func validate() throws(ConductorError) {
        var problems: [String] = []
        func check<T: Comparable>(_ name: String, _ value: T, _ range: ClosedRange<T>, _ show: (T) -> String) {
            if !range.contains(value) { problems.append("\(name)=\(show(value)) is out of range \(show(range.lowerBound))...\(show(range.upperBound))") }
        }
        let seconds: (Duration) -> String = { "\(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) s" }
        check("maxRetries", maxRetries, RetryPolicy.maxRetriesRange.lowerBound...RetryPolicy.maxRetriesRange.upperBound) { "\($0)" }
        check("retryDelay", retryDelay, .milliseconds(1)...(.seconds(60)), seconds)
        check("retryMaxDelay", retryMaxDelay, retryDelay...(.seconds(300)), seconds)
        check("retryBudgetMaxTokens", retryBudgetMaxTokens, 1...1000) { "\($0)" }
        check("retryBudgetTokenRatio", retryBudgetTokenRatio, 0.01...1) { "\($0)" }
        check("timeout", timeout, .milliseconds(1)...(.seconds(3600)), seconds)
        check("circuitBreakerThreshold", circuitBreakerThreshold, 1...50) { "\($0)" }
        check("circuitBreakerTimeout", circuitBreakerTimeout, .milliseconds(1)...(.seconds(3600)), seconds)
        check("cacheTTL", cacheTTL, .milliseconds(1)...(.seconds(86_400)), seconds)
        check("cacheSize", cacheSize, 1...1_000_000) { "\($0)" }
        check("maxReceiveMessageBytes", maxReceiveMessageBytes, 1024...(256 << 20)) { "\($0)" }
        check("connectTimeout", connectTimeout, .milliseconds(1)...(.seconds(600)), seconds)
        check("keepaliveTimeout", keepaliveTimeout, .milliseconds(1)...(.seconds(600)), seconds)
        check("connectionsPerEndpoint", connectionsPerEndpoint, 1...16) { "\($0)" }
        check("maxConnectionsPerEndpoint", maxConnectionsPerEndpoint, 1...64) { "\($0)" }
        check("maxPendingCalls", maxPendingCalls, 0...100_000) { "\($0)" }
        check("dnsRefreshInterval", dnsRefreshInterval, .milliseconds(100)...(.seconds(86_400)), seconds)
        if let healthCheckInterval { check("healthCheckInterval", healthCheckInterval, .milliseconds(10)...(.seconds(86_400)), seconds) }
        if let keepaliveInterval { check("keepaliveInterval", keepaliveInterval, .milliseconds(1)...(.seconds(86_400)), seconds) }
        if !problems.isEmpty {
            throw .invalidConfiguration("invalid configuration:\n  " + problems.joined(separator: "\n  "))
        }
    }
}
