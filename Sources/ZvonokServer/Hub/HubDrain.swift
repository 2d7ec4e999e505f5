import ServiceLifecycle

/// Closes the hub's open WebSockets with 1001 (going away) when the server shuts down gracefully, so that clients
/// know to reconnect (to another node) and `sync`. Runs in the service group after the application, so that it is
/// shut down before it.
struct HubDrain: Service {
    let hub: MessagingHub
    /// How long connections get to take their last frames and the close frame.
    var timeout: Duration = .seconds(5)

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // Cancelled: a hard stop, no time to say goodbye.
        }
        await hub.closeAll(within: timeout)
    }
}
