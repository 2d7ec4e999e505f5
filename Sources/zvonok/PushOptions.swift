import ArgumentParser
import ZvonokCore
import ZvonokServer

/// `serve`'s notification options: the push services it may call and how it sends.
struct PushOptions: ParsableArguments {
    @Option(
        help:
            "A further Web Push service host the server may call (https only); a leading dot covers its subdomains. Repeat for several. [env: ZVONOK_PUSH_ALLOW, comma-separated] (default: the browsers' services, see docs/security.md)"
    )
    var pushAllow: [String] = []

    @Option(help: "How a push service reaches the operator, the VAPID subject: mailto: or https:. [env: ZVONOK_PUSH_CONTACT]")
    var pushContact: String?

    @Option(help: "Seconds within which messages to one person in one chat make one notification. [env: ZVONOK_PUSH_COALESCE] (default: 2)")
    var pushCoalesce: Double?

    @Flag(inversion: .prefixedNo, help: "Run the notification sender on this node. [env: ZVONOK_PUSH_SENDER=0 turns it off] (default: on)")
    var pushSender = true

    @Flag(help: .hidden)
    var pushAllowLoopbackForTests = false

    @OptionGroup var phones: PhonePushOptions

    func apply(to configuration: inout NotificationConfiguration, environment: [String: String]) throws {
        let hosts = pushAllow.isEmpty ? (environment["ZVONOK_PUSH_ALLOW"] ?? "").split(separator: ",").map(String.init) : pushAllow
        for host in hosts where host.isEmpty || host.contains("/") || host.contains(":") {
            throw ValidationError("--push-allow takes a host name such as push.example.org: \(host)")
        }
        configuration.endpoints.hosts += hosts.map { $0.lowercased() }
        configuration.endpoints.allowsLoopbackForTests = pushAllowLoopbackForTests
        if let contact = pushContact ?? environment["ZVONOK_PUSH_CONTACT"] {
            guard contact.hasPrefix("mailto:") || contact.hasPrefix("https://") else {
                throw ValidationError("--push-contact must start with mailto: or https://")
            }
            configuration.contact = contact
        }
        if let seconds = pushCoalesce ?? environment["ZVONOK_PUSH_COALESCE"].flatMap(Double.init) {
            guard seconds >= 0, seconds <= 3600 else { throw ValidationError("--push-coalesce must be 0 to 3600 seconds") }
            configuration.coalescingWindow = .seconds(seconds)
        }
        try phones.apply(to: &configuration.phones, environment: environment)
        configuration.sends = pushSender && environment["ZVONOK_PUSH_SENDER"] != "0"
    }
}
