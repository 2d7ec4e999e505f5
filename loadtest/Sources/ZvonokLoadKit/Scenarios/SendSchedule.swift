import NIOCore

/// When the open loop's sends are due: a base rate during lessons and `breakFactor` times it during breaks, in a
/// repeating cycle (a constant rate when `breakSeconds` is 0). Sends are issued at their scheduled times whatever
/// the server does, and latency is measured from the scheduled time, so that a stalled server shows up as latency
/// instead of as fewer sends (no coordinated omission).
public struct SendSchedule: Sendable {
    /// Messages per second during lessons.
    public var rate: Double
    public var lessonSeconds: Double = 1
    public var breakSeconds: Double = 0
    public var breakFactor: Double = 1

    public init(rate: Double, lessonSeconds: Double = 1, breakSeconds: Double = 0, breakFactor: Double = 1) {
        self.rate = rate
        self.lessonSeconds = lessonSeconds
        self.breakSeconds = breakSeconds
        self.breakFactor = breakFactor
    }

    private var cycle: Double { lessonSeconds + breakSeconds }
    private var perCycle: Double { rate * lessonSeconds + rate * breakFactor * breakSeconds }

    /// Sends due by `seconds` after the start.
    public func count(at seconds: Double) -> Int {
        guard rate > 0, seconds > 0 else { return 0 }
        let cycles = (seconds / cycle).rounded(.down)
        let into = seconds - cycles * cycle
        let partial = into <= lessonSeconds ? into * rate : lessonSeconds * rate + (into - lessonSeconds) * rate * breakFactor
        return Int((cycles * perCycle + partial).rounded(.down))
    }

    /// Seconds after the start at which send `index` (from 0) is due.
    public func time(of index: Int) -> Double {
        let k = Double(index + 1)
        let cycles = (k / perCycle).rounded(.down)
        let rest = k - cycles * perCycle
        let into = rest <= rate * lessonSeconds ? rest / rate : lessonSeconds + (rest - rate * lessonSeconds) / (rate * breakFactor)
        return cycles * cycle + into
    }

    /// This schedule's share for one of `parts` event loops.
    func share(_ parts: Int) -> SendSchedule {
        var part = self
        part.rate = rate / Double(parts)
        return part
    }
}

/// Issues one event loop's share of the open loop's sends, checking every millisecond what is due.
final class OpenLoopDriver: @unchecked Sendable {
    private let loop: any EventLoop
    private let schedule: SendSchedule
    private let startNanos: UInt64
    private let endSeconds: Double
    private let quota: Int
    private let send: (_ index: Int, _ intended: UInt64) -> Void
    private var issued = 0
    private var task: RepeatedTask?
    let finished: EventLoopPromise<Int>

    /// `send` runs on `loop` for each due send with its index and intended time (uptime nanoseconds).
    init(loop: any EventLoop, schedule: SendSchedule, startNanos: UInt64, seconds: Double, quota: Int, send: @escaping (Int, UInt64) -> Void) {
        self.loop = loop
        self.schedule = schedule
        self.startNanos = startNanos
        self.endSeconds = seconds
        self.quota = quota
        self.send = send
        finished = loop.makePromise(of: Int.self)
    }

    func start() {
        loop.execute {
            self.task = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in self.tick() }
        }
    }

    private func tick() {
        let now = NIODeadline.now().uptimeNanoseconds
        let elapsed = now > startNanos ? Double(now - startNanos) / 1e9 : 0
        let due = min(schedule.count(at: min(elapsed, endSeconds)), quota)
        while issued < due {
            let intended = startNanos + UInt64(schedule.time(of: issued) * 1e9)
            send(issued, intended)
            issued += 1
        }
        if issued >= quota || elapsed >= endSeconds {
            task?.cancel()
            task = nil
            finished.succeed(issued)
        }
    }
}
