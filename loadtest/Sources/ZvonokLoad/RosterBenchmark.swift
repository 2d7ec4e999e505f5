import ArgumentParser
import Foundation
import NIOHTTP1
import ZvonokLoadKit

/// `zvonok-load roster`: times the upload of one whole school through `PUT /v1/schools/{id}/roster`.
struct RosterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Create a school and time uploading its roster (first upload, then the same file again)."
    )

    @OptionGroup var server: ServerOptions

    @Option(help: "People in the school: students, one guardian each, and a teacher per class.")
    var people: Int = 2000

    @Option(help: "Students per class.")
    var classSize: Int = 30

    @Option(help: "How many times to time each upload.")
    var repeats: Int = 3

    func run() async throws {
        try await server.withAPI(measure)
    }

    private func measure(_ api: HTTPAPI) async throws {
        let school = try await makeSchool(api)
        let csv = makeRoster()
        print("roster: \(csv.rows) people and \(csv.classes) classes, \(csv.text.utf8.count) bytes of CSV")
        var first: Double = 0
        for attempt in 0..<repeats {
            // Each timed first upload goes to a school of its own, so it really creates everything.
            let target = attempt == 0 ? school : try await makeSchool(api)
            let start = ContinuousClock.now
            let answer = try await api.send(.PUT, "/v1/schools/\(target.id)/roster", text: csv.text, contentType: "text/csv", token: target.admin)
            let elapsed = (ContinuousClock.now - start).milliseconds
            print(
                String(format: "first upload:  %8.1f ms  created=%@ failed=%@", elapsed, "\(answer["created"] ?? "?")", "\(answer["failed"] ?? "?")"))
            first = attempt == 0 ? elapsed : min(first, elapsed)
        }
        var repeated = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            let answer = try await api.send(.PUT, "/v1/schools/\(school.id)/roster", text: csv.text, contentType: "text/csv", token: school.admin)
            let elapsed = (ContinuousClock.now - start).milliseconds
            print(String(format: "same again:    %8.1f ms  unchanged=%@", elapsed, "\(answer["unchanged"] ?? "?")"))
            repeated = min(repeated, elapsed)
        }
        print(String(format: "best: first upload %.1f ms, repeated upload %.1f ms", first, repeated))
    }

    /// A fresh region, municipality and school; returns the school's id and the regional admin's token.
    private func makeSchool(_ api: HTTPAPI) async throws -> (id: String, admin: String) {
        let (municipality, admin) = try await api.makeRegionAndMunicipality()
        return (try await api.makeSchool(in: municipality, name: "Школа", admin: admin), admin)
    }

    /// Students in classes of `classSize`, one guardian per student, a homeroom teacher per class.
    private func makeRoster() -> (text: String, rows: Int, classes: Int) {
        let students = max(1, people / 2 - people / (2 * classSize))
        let classes = (students + classSize - 1) / classSize
        var lines = ["type;externalId;name;role;grade;letter;year;class;classes;homeroom;students"]
        let letters = Array("АБВГДЕЖИКЛМН")
        for index in 0..<classes {
            lines.append("class;C\(index);;;\(index % 11 + 1);\(letters[index / 11 % letters.count])\(index / 132 + 1);2026/2027;;;;")
            lines.append("staff;T\(index);Учитель \(index);teacher;;;;;C\(index);C\(index);")
        }
        for index in 0..<students {
            lines.append("student;S\(index);Ученик \(index);;;;;C\(index % classes);;;")
            lines.append("guardian;G\(index);Родитель \(index);;;;;;;;S\(index)")
        }
        return (lines.joined(separator: "\n") + "\n", classes + 2 * students, classes)
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
