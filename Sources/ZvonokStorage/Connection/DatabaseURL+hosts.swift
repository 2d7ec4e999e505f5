import Foundation

/// libpq's multi-host form, `postgres://user@h1:p1,h2:p2/db`, which `URLComponents` cannot read: the host list is cut
/// out of the authority, and the rest is read as a single-host URL.
extension DatabaseURL {
    /// The URL with only its first host, and the hosts as written when there are several (nil for one).
    static func splittingHosts(_ string: String) throws -> (single: String, hosts: [String]?) {
        guard let range = hostRange(in: string) else { return (string, nil) }
        let hosts = string[range].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard hosts.count > 1 else { return (string, nil) }
        guard hosts.allSatisfy({ !$0.isEmpty }) else { throw DatabaseURLError(url: string, reason: "an empty host in the host list") }
        return (string.replacingCharacters(in: range, with: hosts[0]), hosts)
    }

    /// A `host`, `host:port` or `[v6]:port` of the host list.
    static func endpoint(_ text: String, defaultPort: Int, url: String) throws -> Endpoint {
        var host = Substring(text), port: Substring?
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            port = rest.hasPrefix(":") ? rest.dropFirst() : nil
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw DatabaseURLError(url: url, reason: "a host of the list has no name") }
        guard let number = port.map({ Int($0) }) ?? defaultPort, (1...65535).contains(number) else {
            throw DatabaseURLError(url: url, reason: "the port of \(text) is not a number from 1 to 65535")
        }
        return Endpoint(host: String(host), port: number)
    }

    /// `masked` (a single-host URL) with its host and port replaced by `hosts`.
    static func replacingHost(in masked: String, with hosts: String) -> String {
        guard let range = hostRange(in: masked) else { return masked }
        return masked.replacingCharacters(in: range, with: hosts)
    }

    /// Where the hosts are in `string`: after `scheme://` and any `user:password@`, up to the path or query.
    private static func hostRange(in string: String) -> Range<String.Index>? {
        guard let scheme = string.range(of: "://") else { return nil }
        let authorityEnd = string[scheme.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? string.endIndex
        let authority = string[scheme.upperBound..<authorityEnd]
        let start = authority.lastIndex(of: "@").map { string.index(after: $0) } ?? authority.startIndex
        return start..<authorityEnd
    }
}
