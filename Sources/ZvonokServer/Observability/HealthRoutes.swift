import Hummingbird
import ZvonokCore
import ZvonokStorage

/// `GET /health`: 200 when this node can reach its database, 503 when it cannot.
struct HealthRoutes {
    let database: Database

    /// What `/health` answers.
    struct Status: ResponseEncodable {
        var status: String
        var database: String
    }

    func register(on router: Router<ZvonokRequestContext>) {
        router.get("/health") { _, _ -> EditedResponse<Status> in
            do {
                try await withTimeout(.seconds(2)) { try await database.ping() }
                return EditedResponse(status: .ok, response: Status(status: "ok", database: "up"))
            } catch {
                return EditedResponse(status: .serviceUnavailable, response: Status(status: "unavailable", database: "down"))
            }
        }
    }
}
