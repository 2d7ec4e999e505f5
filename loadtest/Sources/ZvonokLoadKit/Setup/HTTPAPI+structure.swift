import Foundation
import NIOHTTP1

/// Creating the top of a synthetic structure through the registration API.
extension HTTPAPI {
    /// A fresh region (a random free code) with its activated admin and one municipality; returns the municipality's
    /// id and the regional admin's token (the ministry itself writes nothing below regions).
    public func makeRegionAndMunicipality() async throws -> (municipality: String, admin: String) {
        for _ in 0..<40 {
            let code = String(format: "%02d", Int.random(in: 1...99))
            do {
                try await send(.POST, "/v1/regions", json: ["code": code, "name": "Нагрузочный регион \(code)"])
            } catch {
                continue
            }
            let admin = try await send(.POST, "/v1/regions/\(code)/admins", json: ["name": "Регион"])
            let activated = try await send(.POST, "/v1/invites/\(admin["inviteCode"] as! String)/activate", json: [String: String]())
            let regional = activated["token"] as! String
            let municipality = try await send(.POST, "/v1/regions/\(code)/municipalities", json: ["name": "Город"], token: regional)
            return (municipality["id"] as! String, regional)
        }
        throw Failure(description: "no free region code found; use an emptier database")
    }

    /// A new school in `municipality`; returns its id.
    public func makeSchool(in municipality: String, name: String, admin: String) async throws -> String {
        let school = try await send(.POST, "/v1/municipalities/\(municipality)/schools", json: ["name": name], token: admin)
        return school["id"] as! String
    }
}
