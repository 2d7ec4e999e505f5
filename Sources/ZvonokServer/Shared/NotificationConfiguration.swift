public import Foundation
public import NIOSSL
public import ZvonokCore

/// How notifications leave the server for people with no open connection (issue 18): which push services it calls,
/// how it coalesces, retries and bounds its requests, and the clock it judges quiet hours by.
public struct NotificationConfiguration: Sendable {
    /// Whether this node runs the notification sender (any node may; off on a node that only serves connections).
    public var sends = true
    /// Web Push endpoints the server accepts and calls (`--push-allow`, and loopback for tests only).
    public var endpoints = PushEndpointPolicy()
    /// The VAPID `sub` claim: how a push service reaches the operator (`--push-contact`).
    public var contact = "mailto:support@zvonok.invalid"
    /// Messages to one person in one chat within this window make one notification with a count.
    public var coalescingWindow: Duration = .seconds(2)
    /// How often the sender looks for work.
    public var pollInterval: Duration = .milliseconds(250)
    /// Requests in flight at once to one push service, per node.
    public var concurrencyPerService = 16
    /// Sends of one notification before it is given up; the wait doubles from `firstRetry` after each failure.
    public var maximumAttempts = 8
    public var firstRetry: Duration = .seconds(2)
    /// How long a node holds a notification it is sending before another may take it (a node that died with it).
    public var lease: Duration = .seconds(60)
    /// How long a request to a push service may take.
    public var requestTimeout: Duration = .seconds(15)
    /// A node's presence counts while its heartbeat is younger than this; it beats every `presenceInterval`.
    public var presenceFreshness: Duration = .seconds(15)
    public var presenceInterval: Duration = .seconds(1)
    /// The phone platforms' services, each off until configured.
    public var phones = PhonePushConfiguration()
    /// Certificates the push services' client trusts beside the system's: the tests' local HTTPS service (no option
    /// sets it; the real services have certificates the system trusts).
    public var additionalTrustRoots: [NIOSSLCertificate] = []
    /// What the sender takes for now: quiet hours, coalescing and retries follow it (tests move it).
    public var clock: @Sendable () -> Date = { Date() }

    public init() {}
}
