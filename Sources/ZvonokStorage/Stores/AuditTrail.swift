import Logging
import PostgresNIO
import ZvonokCore

/// Records administrative changes (who, what, when, where in the structure) in the transaction that makes them.
enum AuditTrail {
    static func record(
        _ actor: Identity, _ action: String, object: String, at placement: Placement,
        details: String = "{}", on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO audit_log (actor_id, action, object, details, region_code, municipality_id, school_id)
            VALUES (\(actor.personID), \(action), \(object), \(details)::jsonb, \(placement.regionCode), \(placement.municipalityID), \(placement.schoolID))
            """,
            logger: logger
        )
    }
}
