/// Which rows of a rating a caller asked for and may see, decided before anything is counted.
///
/// - The ministry sees everything. At the municipality and school levels it names the region (or a municipality,
///   which names its region).
/// - A regional admin sees their own region: at the region level only their region's row, ranked among all
///   regions, so that a region can watch its standing without reading other regions' figures.
/// - A municipal admin sees their own municipality: its row at the municipality level (ranked within the
///   region) and its schools at the school level; the region level is outside their subtree.
/// - Everyone else (school admins, teachers, students, guardians) gets 403.
public struct RatingScope: Sendable, Equatable {
    public let level: RatingLevel
    /// The region whose units are counted and ranked together; nil at the region level (all regions).
    public let countedRegion: String?
    /// Only the row of this region is shown (region level).
    public let onlyRegion: String?
    /// Only this municipality's row, or its schools, are shown.
    public let onlyMunicipality: Int64?

    /// - Parameters:
    ///   - region: the `region` parameter, checked as a region code.
    ///   - municipality: the municipality the `municipality` parameter names, looked up (404 before this when
    ///     there is none).
    public init(caller: Identity, level: RatingLevel, region: String?, municipality: Municipality?) throws(ZvonokError) {
        self.level = level
        switch caller.role {
        case .ministry, .regionalAdmin, .municipalAdmin: break
        case .schoolAdmin, .teacher, .student, .guardian:
            throw .forbidden("the rating is for the ministry and for regional and municipal admins")
        }
        if let municipality {
            guard level != .region else { throw .invalidArgument("municipality narrows the municipality and school levels only") }
            if let region, region != municipality.regionCode {
                throw .invalidArgument("municipality \(PublicID.encode(.municipality, municipality.id)) is not in region \(region)")
            }
            try caller.requireOversees(municipality.placement)
        }
        if let region, caller.role != .ministry, region != caller.regionCode {
            throw .forbidden("outside your part of the structure")
        }
        switch level {
        case .region:
            if caller.role == .municipalAdmin { throw .forbidden("the region level is outside your part of the structure") }
            countedRegion = nil
            onlyRegion = caller.role == .regionalAdmin ? caller.regionCode : region
            onlyMunicipality = nil
        case .municipality, .school:
            let counted = municipality?.regionCode ?? region ?? (caller.role == .ministry ? nil : caller.regionCode)
            guard let counted else {
                throw .invalidArgument("name a region (region=55) or a municipality for the \(level.rawValue) level")
            }
            countedRegion = counted
            onlyRegion = nil
            onlyMunicipality = municipality?.id ?? (caller.role == .municipalAdmin ? caller.municipalityID : nil)
        }
    }

    /// Whether a unit of the counted rating is shown to the caller.
    public func shows(_ unit: RatingUnit) -> Bool {
        if let onlyRegion, unit.regionCode != onlyRegion { return false }
        guard let onlyMunicipality else { return true }
        switch level {
        case .region: return true
        case .municipality: return unit.key == String(onlyMunicipality)
        case .school: return unit.municipalityID == onlyMunicipality
        }
    }
}
