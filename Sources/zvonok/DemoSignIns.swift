import Foundation
import Logging
import ZvonokCore
import ZvonokDemo
import ZvonokStorage

/// `serve --demo`: prepares the demo region before serving and prints a sign-in link for each demo person.
enum DemoSignIns {
    /// Migrates, makes what is missing of the demo region (`DemoRegion`), and prints the links to `baseURL`.
    static func prepare(url: DatabaseURL, inviteLifetime: Duration, baseURL: String, logger: Logger) async throws {
        let database = Database(url: url, logger: logger, maximumConnections: 2)
        let signIns = try await DatabaseSession.whileRunning(database) {
            try await database.migrate()
            return try await DemoRegion(database: database).prepare(inviteLifetime: inviteLifetime)
        }
        // Written at once, not through print's buffer: a script reading the output finds the links before the server stops.
        FileHandle.standardOutput.write(Data((text(signIns, baseURL: baseURL) + "\n").utf8))
    }

    /// The printed table: one line per person with a link that signs them in; the ministry's leads to the rating.
    static func text(_ signIns: [DemoRegion.SignIn], baseURL: String) -> String {
        var lines = ["", "Демо Звонка: откройте ссылку, чтобы войти (каждая ссылка входит один раз и действует до следующего запуска).", ""]
        var place = ""
        for signIn in signIns {
            if signIn.place != place {
                place = signIn.place
                lines.append("  \(place)")
            }
            let label = "\(roleTitle(signIn.role)): \(signIn.name)"
            let padding = String(repeating: " ", count: max(1, 52 - label.count))
            let page = signIn.role == .ministry ? "/rating" : "/"
            lines.append("    \(label)\(padding)\(baseURL)\(page)#invite=\(signIn.inviteCode)")
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    static func roleTitle(_ role: Role) -> String {
        switch role {
        case .ministry: "министерство"
        case .regionalAdmin: "администратор региона"
        case .municipalAdmin: "администратор округа"
        case .schoolAdmin: "администратор школы"
        case .teacher: "учитель"
        case .student: "ученик"
        case .guardian: "родитель"
        }
    }
}
