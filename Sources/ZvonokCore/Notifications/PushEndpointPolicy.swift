public import Foundation

/// Which Web Push endpoints the server will call: `https` on the push services of the browsers people use, and hosts
/// an operator adds. Anything else is refused when subscribing, so that a subscription cannot make the server call an
/// arbitrary address.
public struct PushEndpointPolicy: Sendable {
    /// The browsers' push services: a name starting with a dot covers every host under it.
    public static let defaultHosts = [
        "fcm.googleapis.com", "android.googleapis.com", "updates.push.services.mozilla.com", ".push.apple.com", ".notify.windows.com",
    ]

    /// Allowed hosts, as in `defaultHosts`.
    public var hosts: [String]
    /// Also allows `http` to 127.0.0.1 and localhost, any port: for tests, which run a push service on loopback.
    public var allowsLoopbackForTests: Bool

    public init(hosts: [String] = Self.defaultHosts, allowsLoopbackForTests: Bool = false) {
        self.hosts = hosts
        self.allowsLoopbackForTests = allowsLoopbackForTests
    }

    /// The endpoint as a URL when the server may call it; `invalid_argument` otherwise.
    public func check(_ endpoint: String) throws(ZvonokError) -> URL {
        guard endpoint.utf8.count <= 1024, let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            let host = url.host?.lowercased(), url.user == nil, url.password == nil
        else { throw .invalidArgument("endpoint is not a URL") }
        if scheme == "http", allowsLoopbackForTests, host == "127.0.0.1" || host == "localhost" { return url }
        guard scheme == "https" else { throw .invalidArgument("endpoint must be https") }
        guard url.port == nil || url.port == 443 else { throw .invalidArgument("endpoint must use the https port") }
        guard hosts.contains(where: { Self.covers($0.lowercased(), host) }) else {
            throw .invalidArgument("endpoint is not on a known push service")
        }
        return url
    }

    private static func covers(_ pattern: String, _ host: String) -> Bool {
        pattern.hasPrefix(".") ? host.hasSuffix(pattern) && host.count > pattern.count : host == pattern
    }
}
