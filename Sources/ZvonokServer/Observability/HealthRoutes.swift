import Hummingbird
import ZvonokCore
import ZvonokStorage

/// `GET /health`: 200 when this node can reach its database, 503 when it cannot; `listener` says whether it hears
/// the other nodes (`degraded` while it does not: its own clients are served, other nodes' messages wait); `primary`
/// and `failovers` which database host it serves and how often that changed.
struct HealthRoutes {
    let database: Database
    let relay: ClusterRelay

    /// What `/health` answers.
    struct Status: ResponseEncodable {
        var status: String
        var database: String
        var listener: String
        var node: String
        var primary: String?
        var failovers: Int
    }

    func register(on router: Router<ZvonokRequestContext>) {
        router.get("/health") { _, _ -> EditedResponse<Status> in
            do {
                try await withTimeout(.seconds(2)) { try await database.ping() }
            } catch {
                return EditedResponse(status: .serviceUnavailable, response: status("unavailable", database: "down"))
            }
            return EditedResponse(status: .ok, response: status(relay.isListening ? "ok" : "degraded", database: "up"))
        }
    }

    private func status(_ status: String, database: String) -> Status {
        Status(
            status: status, database: database, listener: relay.isListening ? "up" : "down", node: relay.node,
            primary: self.database.primary, failovers: self.database.failovers)
    }
}
