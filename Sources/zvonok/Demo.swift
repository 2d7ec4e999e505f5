import ArgumentParser

/// `zvonok demo`: `serve --demo`, for trying Zvonok in a browser.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve with a small demo region and print sign-in links for the web client (the same as serve --demo)."
    )

    @OptionGroup var serve: Serve

    func run() async throws {
        var demo = serve
        demo.demo = true
        try await demo.run()
    }
}
