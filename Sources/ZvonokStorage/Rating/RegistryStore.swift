public import Foundation
import PostgresNIO
public import ZvonokCore

/// The official registries of general-education organisations the ministry uploads per region (issue 20). Every
/// upload is kept whole (sql/013): the rating of a week divides by the registry in force at its end, so an upload
/// changes the current week and later ones, never a finished week.
public struct RegistryStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// How a region's newest registry and its schools match by `officialId`.
    public struct Mismatches: Sendable {
        public let uploadedAt: Date
        public let entries: Int
        public let matched: Int
        /// In the registry, but no school of the region carries its `officialId`.
        public let registryOnly: [OfficialRegistry.Entry]
        /// Schools of the region that no entry of the registry matches (no `officialId`, or one it does not list).
        public let schoolsOnly: [School]
    }

    /// Stores a new registry for the region; it is in force from now on.
    public func upload(_ registry: OfficialRegistry, to region: Region, by actor: Identity) async throws {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "INSERT INTO registry_uploads (region_code) VALUES (\(region.code)) RETURNING id", logger: database.logger)
            let upload = try await rows.decode(Int64.self).first { _ in true } ?? 0
            let entries = registry.entries
            // No municipality is sent as "" (arrays bind no NULLs here; a name is never empty).
            try await connection.query(
                """
                INSERT INTO registry_entries (upload_id, official_id, name, municipality)
                SELECT \(upload), u.id, u.name, nullif(u.municipality, '')
                FROM unnest(\(entries.map(\.officialId))::text[], \(entries.map(\.name))::text[],
                            \(entries.map { $0.municipality ?? "" })::text[]) AS u (id, name, municipality)
                """,
                logger: database.logger)
            try await AuditTrail.record(
                actor, "registry.upload", object: region.code, at: Placement(regionCode: region.code),
                details: ["entries": .number(entries.count)], on: connection, logger: database.logger)
        }
    }

    /// The newest registry of the region against its schools now; nil when none was uploaded.
    public func mismatches(in region: Region) async throws -> Mismatches? {
        try await database.transaction { connection in
            let newest = try await connection.query(
                """
                SELECT u.id, u.uploaded_at, (SELECT count(*) FROM registry_entries e WHERE e.upload_id = u.id)::int
                FROM registry_uploads u WHERE u.region_code = \(region.code) ORDER BY u.uploaded_at DESC, u.id DESC LIMIT 1
                """,
                logger: database.logger)
            guard let (upload, uploadedAt, count) = try await newest.decode((Int64, Date, Int).self).first(where: { _ in true }) else {
                return nil
            }
            let registryOnly = try await connection.query(
                """
                SELECT e.official_id, e.name, e.municipality FROM registry_entries e
                WHERE e.upload_id = \(upload) AND NOT EXISTS (SELECT 1 FROM schools s WHERE s.region_code = \(region.code)
                                                                 AND s.official_id = e.official_id AND s.removed_at IS NULL)
                ORDER BY e.official_id
                """,
                logger: database.logger)
            var entries: [OfficialRegistry.Entry] = []
            for try await (id, name, municipality) in registryOnly.decode((String, String, String?).self) {
                entries.append(.init(officialId: id, name: name, municipality: municipality))
            }
            let schoolsOnly = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(StructureStore.schoolColumns) FROM schools s
                        WHERE s.region_code = $1 AND s.removed_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM registry_entries e WHERE e.upload_id = $2 AND e.official_id = s.official_id)
                        ORDER BY s.id
                        """,
                    binds: try binds(region.code, upload)),
                logger: database.logger)
            let schools = try await StructureStore.schools(of: schoolsOnly)
            return Mismatches(
                uploadedAt: uploadedAt, entries: count, matched: count - entries.count, registryOnly: entries, schoolsOnly: schools)
        }
    }
}
