import DequeModule
import Testing
import ZvonokCore

/// Frames named for what they carry, close codes and waiters as numbers, so that every action compares.
private typealias Machine = ConnectionStateMachine<String, UInt16, Int>

private let goingAway: UInt16 = 1001, sessionEnded: UInt16 = 4001, tooSlow: UInt16 = 4008

/// A queue of at most 4 frames (or 1,000 bytes, 10 a frame), closing with 4008 past it.
private func makeMachine() -> Machine {
    Machine(maximumFrames: 4, maximumBytes: 1000, slowConsumerCode: tooSlow, byteCount: { _ in 10 })
}

/// A machine that sent `ready` and wrote it, so that the next frames start a burst of their own.
private func openMachine() -> Machine {
    var machine = makeMachine()
    _ = machine.started(with: "ready")
    _ = drain(&machine)
    _ = machine.burstWritten(succeeded: true)
    return machine
}

/// Drains the machine as the event loop does: the burst to write and the action.
private func drain(_ machine: inout Machine) -> (burst: [String], action: Machine.Action) {
    var burst = Deque<String>()
    let action = machine.drain(into: &burst)
    return (Array(burst), action)
}

@Suite struct ConnectionStateMachineTests {
    // MARK: Open

    @Test func anOpeningConnectionQueuesFramesButWritesNone() {
        var machine = makeMachine()
        let first = machine.send(["answer"]), second = machine.send(["another"])
        #expect(first == .scheduleDrain)
        #expect(second == .none, "one drain is scheduled for both")
        #expect(drain(&machine).burst.isEmpty, "nothing is written before ready")
        #expect(!machine.isClosing)
    }

    // MARK: Registered

    @Test func aRegisteredConnectionIsUnregisteredWhenItEnds() {
        var machine = makeMachine()
        let registered = machine.registeredWithHub()
        let end = machine.ended(), again = machine.ended()
        #expect(registered)
        #expect(end.unregister)
        #expect(!again.unregister, "unregistered once")
    }

    @Test func aConnectionGoneWhileOpeningIsNotRegistered() {
        var machine = makeMachine()
        let end = machine.ended()
        let registered = machine.registeredWithHub()
        #expect(!end.unregister)
        #expect(!registered, "the caller unregisters it at once")
        #expect(machine.isClosing)
    }

    // MARK: Ready

    @Test func readyGoesOutAheadOfWhatQueuedWhileOpening() {
        var machine = makeMachine()
        _ = machine.liveFrameArrived("m1", chat: 1, seq: 1)
        let started = machine.started(with: "ready")
        #expect(started == .scheduleDrain)
        #expect(drain(&machine).burst == ["ready", "m1"])
    }

    // MARK: Draining

    @Test func oneBurstAtATimeAndTheNextFollowsAtOnce() {
        var machine = openMachine()
        _ = machine.send(["a", "b"])
        #expect(drain(&machine).burst == ["a", "b"])
        let queuedDuringBurst = machine.send(["c"])
        #expect(queuedDuringBurst == .scheduleDrain)
        #expect(drain(&machine).burst.isEmpty, "the burst on its way is waited for")
        let firstWritten = machine.burstWritten(succeeded: true)
        #expect(firstWritten == .drainAgain)
        #expect(drain(&machine).burst == ["c"])
        let secondWritten = machine.burstWritten(succeeded: true)
        #expect(secondWritten == .none, "nothing more queued")
    }

    @Test func aDrainReleasesASyncWaitingForRoom() {
        var machine = openMachine()
        _ = machine.send(["a", "b", "c"])
        let waiting = machine.waitingForRoom(7)
        #expect(waiting == .none, "three of four frames: over half full")
        let (burst, action) = drain(&machine)
        #expect(burst.count == 3)
        #expect(action == .resume(7))
        let waitingAgain = machine.waitingForRoom(8)
        #expect(waitingAgain == .resume(8), "an empty queue has room")
    }

    // MARK: Sync

    @Test func aSyncSendsSyncedThenTheLiveFramesItHeld() {
        var machine = openMachine()
        let began = machine.syncBegan(of: 1)
        #expect(began)
        _ = machine.liveFrameArrived("m7", chat: 1, seq: 7)
        _ = machine.liveFrameArrived("m8", chat: 1, seq: 8)
        #expect(drain(&machine).burst.isEmpty, "held while the history is read")
        let finished = machine.syncFinished(of: 1, through: 7, synced: "synced")
        #expect(finished == .scheduleDrain)
        #expect(drain(&machine).burst == ["synced", "m8"])
    }

    // MARK: Slow-consumer close

    @Test func anOverflowClosesWith4008DroppingTheQueue() {
        var machine = openMachine()
        _ = machine.send(["a", "b", "c"])
        _ = machine.waitingForRoom(7)
        let overflow = machine.send(["d", "e"])
        #expect(overflow == .startClosing(resuming: 7))
        #expect(machine.isClosing)
        let due = machine.closeFrameIfDue()
        #expect(due == .writeCloseFrame(tooSlow), "at once, ahead of the queue")
        #expect(drain(&machine).burst.isEmpty, "nothing is written after the close frame")
        let dueAgain = machine.closeFrameIfDue()
        #expect(dueAgain == .none, "one close frame")
    }

    @Test func tooManyFramesHeldForASyncCloseWith4008() {
        var machine = openMachine()
        _ = machine.syncBegan(of: 1)
        let held = (1...4).map { machine.liveFrameArrived("m\($0)", chat: 1, seq: Int64($0)) }
        let overflow = machine.liveFrameArrived("m5", chat: 1, seq: 5)
        let due = machine.closeFrameIfDue()
        #expect(held == Array(repeating: .none, count: 4))
        #expect(overflow == .startClosing(resuming: nil))
        #expect(due == .writeCloseFrame(tooSlow))
    }

    // MARK: Closes the server asks for

    @Test func aRevokedSessionClosesAtOnceWithoutTheQueue() {
        var machine = openMachine()
        _ = machine.send(["a"])
        let revoked = machine.closeRequested(sessionEnded, afterQueued: false)
        let shutdown = machine.closeRequested(goingAway, afterQueued: true)
        #expect(revoked == .startClosing(resuming: nil))
        #expect(shutdown == .none, "the first close counts")
        #expect(drain(&machine).burst.isEmpty)
        let due = machine.closeFrameIfDue()
        #expect(due == .writeCloseFrame(sessionEnded))
    }

    @Test func aCloseBeforeReadyWritesTheCloseFrameAtOnce() {
        var machine = makeMachine()
        _ = machine.send(["early"])
        _ = machine.closeRequested(goingAway, afterQueued: true)
        let due = machine.closeFrameIfDue()
        #expect(due == .writeCloseFrame(goingAway), "nothing goes out before ready")
    }

    // MARK: Server shutdown

    @Test func shutdownWritesTheQueueThen1001() {
        var machine = openMachine()
        _ = machine.send(["a"])
        let waiting = machine.waitingForRoom(3)
        let shutdown = machine.closeRequested(goingAway, afterQueued: true)
        let dueWhileQueued = machine.closeFrameIfDue()
        #expect(waiting == .resume(3), "one frame of four leaves room")
        #expect(shutdown == .startClosing(resuming: nil))
        #expect(dueWhileQueued == .none, "the queue goes first")
        #expect(drain(&machine).burst == ["a"])
        let dueWhileWriting = machine.closeFrameIfDue()
        let written = machine.burstWritten(succeeded: true)
        let waitingWhileClosing = machine.waitingForRoom(4)
        #expect(dueWhileWriting == .none, "the burst is still on its way")
        #expect(written == .writeCloseFrame(goingAway))
        #expect(waitingWhileClosing == .resume(4), "a closing connection keeps no sync waiting")
    }

    // MARK: Client close

    @Test func theClientsCloseIsAnsweredWithItsCode() {
        var machine = openMachine()
        _ = machine.send(["a", "b", "c"])
        _ = machine.waitingForRoom(5)
        let closed = machine.clientClosed(1000)
        #expect(closed == .answerClose(1000, resuming: 5))
        #expect(machine.isClosing)
        #expect(drain(&machine).burst.isEmpty, "nothing is written after the answer")
        let due = machine.closeFrameIfDue()
        #expect(due == .none)
    }

    @Test func theClientsCloseAfterOursOnlyClosesTheSocket() {
        var machine = openMachine()
        _ = machine.closeRequested(tooSlow, afterQueued: false)
        _ = machine.closeFrameIfDue()
        let closed = machine.clientClosed(4008)
        #expect(closed == .closeSocket(resuming: nil))
    }

    // MARK: Write failure

    @Test func aFailedBurstIsNotFollowedByTheNextOrTheCloseFrame() {
        var machine = openMachine()
        _ = machine.send(["a"])
        _ = drain(&machine)
        _ = machine.send(["b"])
        _ = machine.closeRequested(goingAway, afterQueued: true)
        let failed = machine.burstWritten(succeeded: false)
        let due = machine.closeFrameIfDue()
        #expect(failed == .none)
        #expect(due == .none, "b is still queued ahead of the close frame")
    }

    // MARK: Ended

    @Test func anEndedConnectionDropsFramesAndReleasesItsSync() {
        var machine = openMachine()
        _ = machine.send(["a", "b", "c"])
        _ = machine.waitingForRoom(9)
        let end = machine.ended()
        let sent = machine.send(["d"])
        let shutdown = machine.closeRequested(goingAway, afterQueued: true)
        let clientClosed = machine.clientClosed(1000)
        #expect(end.resuming == 9)
        #expect(!end.unregister)
        #expect(sent == .none)
        #expect(drain(&machine).burst.isEmpty)
        #expect(shutdown == .none)
        #expect(clientClosed == .closeSocket(resuming: nil))
    }
}
