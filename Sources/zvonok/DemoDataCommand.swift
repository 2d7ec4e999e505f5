import ArgumentParser
import Logging
import ZvonokCore
import ZvonokDemo
import ZvonokStorage

/// `zvonok demo-data`: fills the database with a deterministic world for demos and benchmarks (`DemoData`).
struct DemoDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-data",
        abstract: "Fill the database with regions, schools, people and weeks of activity, deterministically from --seed.",
        discussion: """
            Activity is written into the daily roll-ups the rating reads (activity_daily), not as message rows. \
            The benchmark of docs/performance.md used: --regions 1 --first-region 55 --municipalities 40 \
            --schools 2000 --classes 25 --students 10 --teachers 30 --weeks 12 --messages 10000000
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Regions to create.") var regions = 3
    @Option(help: "Code of the first region (then the next ones).") var firstRegion = 1
    @Option(help: "Municipalities per region.") var municipalities = 5
    @Option(help: "Schools per region, spread over its municipalities.") var schools = 20
    @Option(help: "Classes per school.") var classes = 11
    @Option(help: "Students per class (each with one guardian).") var students = 20
    @Option(help: "Teachers per school.") var teachers = 25
    @Option(help: "Weeks of activity before the current week.") var weeks = 4
    @Option(help: "Messages over all the weeks, roughly.") var messages = 50_000
    @Option(help: "Seed: the same seed and options on an empty database give the same data.") var seed = 1

    func run() async throws {
        var logger = common.makeLogger()
        logger.logLevel = max(logger.logLevel, .warning)
        var options = DemoData.Options()
        (options.regions, options.firstRegion, options.municipalities, options.schools, options.classes) = (
            regions, firstRegion, municipalities, schools, classes
        )
        (options.students, options.teachers, options.weeks, options.messages, options.seed) = (students, teachers, weeks, messages, seed)
        do { try options.validate() } catch { throw ValidationError(error.message) }

        let session = try await common.openDatabase(logger: logger)
        // A large world is made in one transaction of minutes: the time limits are for serving.
        let database = Database(url: session.url, logger: logger, timeouts: .unlimitedStatements)
        let clock = ContinuousClock()
        let started = clock.now
        let summary = try await session.withRunningClient(database) {
            try await database.migrate()
            return try await DemoData(database: database).generate(options)
        }
        print("Made \(summary.schools) schools, \(summary.classes) classes, \(summary.chats) chats, \(summary.memberships) memberships:")
        for (role, listed, registered) in summary.people { print("  \(role): \(listed) listed, \(registered) registered") }
        print(
            "Activity \(summary.firstDay) to \(summary.lastDay): \(summary.activityRows) daily rows, \(summary.messages) messages, \(summary.counted) counted"
        )
        print("Took \((clock.now - started).components.seconds) s")
    }
}
