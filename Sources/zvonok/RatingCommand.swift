import ArgumentParser
import Foundation
import Logging
import ZvonokCore
import ZvonokStorage

/// `zvonok rating`: the weekly rating in the terminal, as the ministry sees it through the API.
struct RatingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rating",
        abstract: "Print the weekly rating (contract §6) as an aligned table, or as CSV."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "ISO week in Moscow time, as 2026-W47. (default: the last complete week)")
    var week: String?

    @Option(help: "region, municipality or school.")
    var level: String = "region"

    @Option(
        help:
            "The region whose municipalities or schools are ranked (required below the region level unless --municipality is given); at the region level, only its row."
    )
    var region: String?

    @Option(help: "Only this municipality (an id such as m12): its row, or its schools.")
    var municipality: String?

    @Option(help: "Weights for schoolsShare, teachersShare and teachersActiveShare. [env: ZVONOK_RATING_WEIGHTS] (default: 0.3,0.3,0.4)")
    var weights: String?

    @Flag(help: "Print CSV (as the API's text/csv answer) instead of a table.")
    var csv = false

    func run() async throws {
        var logger = common.makeLogger()
        logger.logLevel = max(logger.logLevel, .warning)
        let query: RatingQuery
        do { query = try RatingQuery(level: level, week: week, region: region, municipality: municipality) } catch {
            throw ValidationError(error.message)
        }
        let formula =
            try (weights ?? ProcessInfo.processInfo.environment["ZVONOK_RATING_WEIGHTS"]).map { try RatingFormula(parsing: $0) } ?? .contract

        let session = try await common.openDatabase(logger: logger)
        let database = Database(url: session.url, logger: logger)
        let rating = try await session.withRunningClient(database) {
            let ministryView = Identity(
                personID: 0, role: .ministry, name: "operator", regionCode: nil, municipalityID: nil, schoolID: nil, classID: nil)
            return try await WeeklyRatingService(database: database, formula: formula).rating(query, for: ministryView)
        }
        if csv {
            FileHandle.standardOutput.write(rating.csv)
            return
        }
        print(
            "Week \(rating.week) (\(rating.week.firstDayText) – \(rating.week.lastDayText), Moscow time), level \(rating.level.rawValue)\(rating.partial ? ", in progress (partial)" : "")"
        )
        print("Score = \(rating.formula)")
        print(Self.aligned(rating.table))
    }

    /// Columns padded to their widest cell: names to the left, numbers to the right.
    static func aligned(_ table: (header: [String], rows: [[String]])) -> String {
        let all = [table.header] + table.rows
        let widths = table.header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 || column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
