/// Bounds how many database-backed tests run at once.
///
/// Swift Testing starts every test together; on a two-core machine a hundred live servers, clusters and clients at
/// once starve each other until HTTP reads time out, and running them all together is no faster than a dozen at a
/// time (66 s either way, measured). So each test that starts servers or opens databases waits for one of a few
/// slots. A test that holds a slot does not take a second one for what it calls.
public enum TestSlots {
    @TaskLocal static var held = false
    static let gate = Gate(slots: 8)

    /// Runs `body` in a slot, waiting for one if all are taken.
    public static func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        if held { return try await body() }
        await gate.acquire()
        do {
            let result = try await $held.withValue(true) { try await body() }
            await gate.release()
            return result
        } catch {
            await gate.release()
            throw error
        }
    }

    /// A counting semaphore for tasks.
    actor Gate {
        private var free: Int
        private var waiting: [CheckedContinuation<Void, Never>] = []

        init(slots: Int) {
            free = slots
        }

        func acquire() async {
            if free > 0 {
                free -= 1
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func release() {
            if waiting.isEmpty {
                free += 1
            } else {
                waiting.removeFirst().resume()
            }
        }
    }
}
