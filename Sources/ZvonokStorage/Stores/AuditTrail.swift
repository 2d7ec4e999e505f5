import Foundation
import Logging
import PostgresNIO
import ZvonokCore

/// Records administrative changes (who, what, when, where in the structure) in the transaction that makes them.
/// Details name what changed; secrets (invite codes, tokens) never go into them.
enum AuditTrail {
    static func record(
        _ actor: Identity?, _ action: String, object: String, at placement: Placement,
        details: [String: AuditEntry.Value] = [:], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(details), as: UTF8.self)
        // The ministry sits above every region: its own changes (signing out) belong to no region.
        let region = placement.regionCode.isEmpty ? nil : placement.regionCode
        try await connection.query(
            """
            INSERT INTO audit_log (actor_id, action, object, details, region_code, municipality_id, school_id)
            VALUES (\(actor?.personID), \(action), \(object), \(json)::jsonb, \(region), \(placement.municipalityID), \(placement.schoolID))
            """,
            logger: logger
        )
    }
}
