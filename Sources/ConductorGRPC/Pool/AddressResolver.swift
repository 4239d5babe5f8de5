import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Expands configured endpoints into endpoint addresses: `dns:///host:port` becomes one TCP
/// endpoint per A/AAAA address; other forms stand for themselves. `getaddrinfo` blocks, so it
/// runs on a Dispatch queue, never on the cooperative pool.
enum AddressResolver {
    /// The addresses of every configured endpoint; a name that does not resolve now contributes
    /// `previous`'s addresses for it (the last good set), or nothing.
    static func resolve(_ endpoints: [ConductorEndpoint], previous: [ConductorEndpoint: [ConductorEndpoint]] = [:])
        async -> [ConductorEndpoint: [ConductorEndpoint]] {
        var result: [ConductorEndpoint: [ConductorEndpoint]] = [:]
        for endpoint in endpoints {
            guard case .dns(let host, let port) = endpoint.transport else {
                result[endpoint] = [endpoint]
                continue
            }
            let addresses = await lookup(host: host, port: port).map { address in
                var address = address
                address.usesTLS = endpoint.usesTLS
                address.resolvedName = host
                return address
            }
            result[endpoint] = addresses.isEmpty ? previous[endpoint] ?? [] : addresses
        }
        return result
    }

    /// Flattens a resolution into the pool's address list, in configuration order, without duplicates.
    static func flatten(_ resolved: [ConductorEndpoint: [ConductorEndpoint]], order: [ConductorEndpoint]) -> [ConductorEndpoint] {
        var seen = Set<ConductorEndpoint>()
        return order.flatMap { resolved[$0] ?? [] }.filter { seen.insert($0).inserted }
    }

    private static func lookup(host: String, port: Int) async -> [ConductorEndpoint] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingLookup(host: host, port: port))
            }
        }
    }

    private static func blockingLookup(host: String, port: Int) -> [ConductorEndpoint] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [ConductorEndpoint] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let endpoint = ConductorEndpoint(.tcp(host: host, port: port))
                if !addresses.contains(endpoint) { addresses.append(endpoint) }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
