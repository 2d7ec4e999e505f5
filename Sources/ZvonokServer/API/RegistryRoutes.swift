import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// The official registry of general-education organisations per region (issue 20): uploaded by the ministry, matched
/// against the region's schools by `officialId`, and the rating's denominator from then on.
struct RegistryRoutes {
    let api: APIContext
    let registries: RegistryStore

    /// A registry of 20,000 organisations in CSV is about 3 MB.
    static let maximumSize = 8 << 20

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.put("regions/:code/registry", use: upload)
        v1.get("regions/:code/registry/mismatches", use: mismatches)
    }

    /// `PUT /v1/regions/{code}/registry`: JSON or CSV; answers how it matches the region's schools now.
    @Sendable func upload(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.RegistryMatchBody {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        guard caller.role == .ministry else { throw ZvonokError.forbidden("only the ministry uploads the official registry") }
        let registry = try await parse(request)
        try await registries.upload(registry, to: region, by: caller)
        return try await matched(region)
    }

    /// `GET /v1/regions/{code}/registry/mismatches`: for the ministry and the region's admins; 404 before any upload.
    @Sendable func mismatches(_ request: Request, context: ZvonokRequestContext) async throws -> Wire.RegistryMatchBody {
        let caller = try context.requireIdentity()
        let region = try await api.region(context.parameters.get("code") ?? "")
        try caller.requireOversees(Placement(regionCode: region.code))
        return try await matched(region)
    }

    private func matched(_ region: Region) async throws -> Wire.RegistryMatchBody {
        guard let mismatches = try await registries.mismatches(in: region) else {
            throw ZvonokError.notFound("no official registry was uploaded for region \(region.code)")
        }
        return Wire.RegistryMatchBody(region: region, mismatches)
    }

    private func parse(_ request: Request) async throws -> OfficialRegistry {
        let data = Data(try await request.body.collect(upTo: Self.maximumSize).readableBytesView)
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
        if contentType.hasPrefix("text/csv") { return try OfficialRegistry.parse(csv: data) }
        if contentType.hasPrefix("application/json") { return try OfficialRegistry.parse(json: data) }
        throw ZvonokError.invalidArgument("send the registry as application/json or text/csv")
    }
}

extension Wire {
    /// A region's newest registry against its schools: counts, and the unmatched on both sides.
    struct RegistryMatchBody: ResponseEncodable {
        struct SchoolOnly: Encodable { let id: String; let name: String; let officialId: String? }

        let regionCode: String
        let uploadedAt: String
        let entries: Int
        let matched: Int
        let registryOnly: [OfficialRegistry.Entry]
        let schoolsOnly: [SchoolOnly]

        init(region: Region, _ mismatches: RegistryStore.Mismatches) {
            regionCode = region.code
            uploadedAt = Wire.timestamp(mismatches.uploadedAt)
            entries = mismatches.entries
            matched = mismatches.matched
            registryOnly = mismatches.registryOnly
            schoolsOnly = mismatches.schoolsOnly.map { SchoolOnly(id: PublicID.encode(.school, $0.id), name: $0.name, officialId: $0.officialID) }
        }
    }
}
