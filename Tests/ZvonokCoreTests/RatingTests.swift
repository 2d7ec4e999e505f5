import Foundation
import Testing

@testable import ZvonokCore

@Suite struct RatingTests {
    func unit(_ key: String, region: String = "55", _ fill: (inout RatingCounts) -> Void = { _ in }) -> RatingUnit {
        var counts = RatingCounts()
        fill(&counts)
        return RatingUnit(key: key, name: "Unit \(key)", regionCode: region, counts: counts)
    }

    func rate(_ level: RatingLevel, _ units: [RatingUnit], formula: RatingFormula = .contract) throws -> Rating {
        Rating(week: try RatingWeek(parsing: "2026-W47"), level: level, formula: formula, partial: false, units: units)
    }

    /// With an official registry (issue 20) the schools' share divides the matched registered schools by its count,
    /// and `schoolsUsingShare` the matched active ones; without one, it is absent.
    @Test func anOfficialRegistryIsTheSchoolsDenominator() throws {
        let rating = try rate(
            .region,
            [
                unit("55") {
                    $0.schoolsListed = 2; $0.schoolsRegistered = 2; $0.schoolsActive = 2
                    $0.schoolsOfficial = 8; $0.schoolsOfficialRegistered = 1; $0.schoolsOfficialActive = 1
                },
                unit("56") {
                    $0.schoolsListed = 2; $0.schoolsRegistered = 2
                },
            ])
        let official = try #require(rating.items.first { $0.unit.key == "55" })
        let listed = try #require(rating.items.first { $0.unit.key == "56" })
        #expect(official.schoolsShare == Decimal(string: "0.125") && official.schoolsUsingShare == Decimal(string: "0.125"))
        #expect(official.schoolsActiveShare == 1, "schoolsActiveShare stays over the listed schools")
        #expect(listed.schoolsShare == 1 && listed.schoolsUsingShare == nil)
        #expect(official.score == Decimal(string: "3.75") && listed.rank == 1)
    }

    @Test func sharesHaveFourDecimalsAndTheScoreUsesTheUnroundedOnes() throws {
        let rating = try rate(
            .region,
            [
                unit("55") {
                    $0.schoolsListed = 3; $0.schoolsRegistered = 1
                    $0.teachersListed = 3; $0.teachersRegistered = 2
                    $0.teachersActive = 1; $0.teachersEngaged = 1; $0.schoolsActive = 2
                }
            ])
        let item = try #require(rating.items.first)
        #expect(item.schoolsShare == Decimal(string: "0.3333"))
        #expect(item.teachersShare == Decimal(string: "0.6667"))
        #expect(item.teachersActiveShare == Decimal(string: "0.5"))
        #expect(item.teachersEngagedShare == Decimal(string: "0.5"))
        #expect(item.schoolsActiveShare == Decimal(string: "0.6667"))
        // 100 × (0.3·1/3 + 0.3·2/3 + 0.4·1/2) = 50 exactly.
        #expect(item.score == 50)
        // 100 × (0.3·2/3 + 0.3·1 + 0.4·2/3) = 76.666… → 76.67.
        let twoThirds = try rate(
            .region,
            [
                unit("55") {
                    $0.schoolsListed = 3; $0.schoolsRegistered = 2; $0.teachersListed = 3; $0.teachersRegistered = 3; $0.teachersActive = 2
                }
            ])
        #expect(twoThirds.items[0].score == Decimal(string: "76.67"))
    }

    @Test func scoreRoundsHalfUp() throws {
        // 100 × (0.3·1/8 + 0.3·0 + 0.4·0) = 3.75; 100 × 0.3 · 1/16 = 1.875 → 1.88.
        let rating = try rate(
            .region,
            [
                unit("01") {
                    $0.schoolsListed = 16; $0.schoolsRegistered = 1
                }
            ])
        #expect(rating.items[0].score == Decimal(string: "1.88"))
        #expect(rating.items[0].schoolsShare == Decimal(string: "0.0625"))
        // 1/32 = 0.03125 → 0.0313
        let finer = try rate(
            .region,
            [
                unit("01") {
                    $0.schoolsListed = 32; $0.schoolsRegistered = 1
                }
            ])
        #expect(finer.items[0].schoolsShare == Decimal(string: "0.0313"))
    }

    @Test func zeroDenominatorsGiveZeroShares() throws {
        let rating = try rate(.region, [unit("01")])
        let item = rating.items[0]
        #expect(item.schoolsShare == 0 && item.teachersShare == 0 && item.teachersActiveShare == 0)
        #expect(item.teachersEngagedShare == 0 && item.schoolsActiveShare == 0 && item.score == 0 && item.rank == 1)
    }

    @Test func ranksFollowTheScoreAndTiesFollowTheKey() throws {
        let half: (inout RatingCounts) -> Void = {
            $0.schoolsListed = 2; $0.schoolsRegistered = 1
        }
        let rating = try rate(
            .school,
            [
                unit("10", half), unit("9", half), unit("3"),
                unit("100") {
                    $0.schoolsListed = 1; $0.schoolsRegistered = 1
                },
                unit("2", region: "77", half), unit("1", region: "77"),
            ])
        #expect(rating.items.map(\.unit.key) == ["100", "9", "10", "3", "2", "1"])
        #expect(rating.items.map(\.rank) == [1, 2, 3, 4, 1, 2])
        let regions = try rate(.region, [unit("77", half), unit("05", half), unit("50")])
        #expect(regions.items.map(\.unit.key) == ["05", "77", "50"])
        #expect(regions.items.map(\.rank) == [1, 2, 3])
        // Filtering keeps the ranks counted among all.
        #expect(regions.filtered { $0.key == "77" }.items.map(\.rank) == [2])
    }

    @Test func weightsAreConfigurableAndNamedInTheFormula() throws {
        #expect(RatingFormula.contract.description == "v1: 100 × (0.3·schoolsShare + 0.3·teachersShare + 0.4·teachersActiveShare)")
        let formula = try RatingFormula(parsing: "0.5, 0.5, 0")
        #expect(formula.description == "v1: 100 × (0.5·schoolsShare + 0.5·teachersShare + 0·teachersActiveShare)")
        let rating = try rate(
            .region,
            [
                unit("01") {
                    $0.schoolsListed = 1; $0.schoolsRegistered = 1
                }
            ], formula: formula)
        #expect(rating.items[0].score == 50)
        for bad in ["0.5,0.5", "0.5,0.6,0", "-0.1,0.6,0.5", "a,b,c"] {
            #expect(throws: ZvonokError.self, "\(bad)") { try RatingFormula(parsing: bad) }
        }
    }

    @Test func csvIsRfc4180WithBomAndDotDecimals() throws {
        var units = [
            RatingUnit(key: "7", name: "Школа №1, корпус \"Б\"", regionCode: "55", municipalityID: 3),
            RatingUnit(key: "8", name: "=HYPERLINK(\"x\")", regionCode: "55", municipalityID: 3),
            RatingUnit(key: "9", name: "Гимназия\nвторая строка", regionCode: "55", municipalityID: 3),
        ]
        units[0].counts.schoolsListed = 3
        units[0].counts.schoolsRegistered = 1
        let csv = try rate(.school, units).csv
        #expect(Array(csv.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = try #require(String(data: csv.dropFirst(3), encoding: .utf8))
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines[0] == "id,name,regionCode,municipalityId," + (Rating.columns + Rating.registryColumns).joined(separator: ","))
        #expect(lines[1] == "s7,\"Школа №1, корпус \"\"Б\"\"\",55,m3,3,1,0.3333,0,0,0.0000,0,0.0000,0,0.0000,0,0.0000,0,0,0,0,10.00,1,,false,")
        #expect(lines[2].hasPrefix("s8,\"'=HYPERLINK(\"\"x\"\")\",55,m3,"))
        #expect(lines[3].hasPrefix("s9,\"Гимназия\nвторая"))
        #expect(text.hasSuffix("\r\n"))
    }

    /// Hole 7 of issue 15: Russian-locale spreadsheets split on `;`, so `Школа;=2+5;Y` came out as three cells,
    /// the second a formula. Every text cell is guarded, not only names; the numbers stay numbers.
    @Test func csvIsSafeInASemicolonLocaleInEveryTextCell() throws {
        let units = [
            RatingUnit(key: "7", name: "Школа;=2+5;Y", regionCode: "55", municipalityID: 3),
            RatingUnit(key: "8", name: "\tтабуляция", regionCode: "+55", municipalityID: 3),
            RatingUnit(key: "9", name: "-1 школа", regionCode: "@55", municipalityID: 3),
        ]
        let text = try #require(String(data: try rate(.school, units).csv.dropFirst(3), encoding: .utf8))
        let lines = text.components(separatedBy: "\r\n")
        for expected in ["s7,\"Школа;=2+5;Y\",55,m3,0,0,0.0000,", "s8,'\tтабуляция,'+55,m3,0,", "s9,'-1 школа,'@55,m3,0,"] {
            #expect(lines.contains { $0.hasPrefix(expected) }, "\(expected)")
        }
        #expect(Rating.csvField("0.3333") == "0.3333")
        #expect(Rating.csvField("=1;2") == "\"'=1;2\"")
        #expect(Rating.csvField("\rx") == "\"'\rx\"")
    }

    @Test func textOfDecimalsIsFixedAndLocaleFree() {
        #expect(Rating.text(Decimal(string: "0.5")!, places: 4) == "0.5000")
        #expect(Rating.text(Decimal(string: "66.67")!, places: 2) == "66.67")
        #expect(Rating.text(Decimal(string: "100")!, places: 2) == "100.00")
        #expect(Rating.text(Decimal(string: "0.0313")!, places: 4) == "0.0313")
        #expect(Rating.text(0, places: 4) == "0.0000")
    }
}
