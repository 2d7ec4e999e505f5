import NIOCore
import Synchronization

/// The connections of one event loop that have frames to write, drained together in one task on the loop.
///
/// A message to a chat of thirty queues a frame for thirty connections at once, from the thread that fans it out;
/// scheduling each connection's drain on its loop separately cost a task, a lock and often a wake-up of the loop per
/// delivery. Here a delivery adds its connection to the loop's list, and only the first one since the loop last took
/// the list schedules a task, so a fan-out to thousands of connections wakes each loop once.
final class EventLoopDrains: Sendable {
    private struct Pending {
        var connections: [HubConnection] = []
        var scheduled = false
    }

    let eventLoop: any EventLoop
    private let pending = Mutex(Pending())

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Drains `connection` on the loop soon, together with the others asking meanwhile.
    func schedule(_ connection: HubConnection) {
        let first = pending.withLock { pending in
            pending.connections.append(connection)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if first { eventLoop.execute { self.drainAll() } }
    }

    private func drainAll() {
        let connections = pending.withLock { pending in
            pending.scheduled = false
            defer { pending.connections = [] }
            return pending.connections
        }
        for connection in connections { connection.drain() }
    }
}

/// One `EventLoopDrains` per event loop of the server, found by the loop.
final class EventLoopDrainsDirectory: Sendable {
    private let byLoop = Mutex<[ObjectIdentifier: EventLoopDrains]>([:])

    /// The drains of `eventLoop`, made on first use.
    func drains(of eventLoop: any EventLoop) -> EventLoopDrains {
        byLoop.withLock { byLoop in
            if let drains = byLoop[ObjectIdentifier(eventLoop)] { return drains }
            let drains = EventLoopDrains(eventLoop: eventLoop)
            byLoop[ObjectIdentifier(eventLoop)] = drains
            return drains
        }
    }
}
