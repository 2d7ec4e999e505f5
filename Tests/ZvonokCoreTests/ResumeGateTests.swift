import Testing
import ZvonokCore

@Suite struct ResumeGateTests {
    @Test func anOpenGateDeliversEverything() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        #expect(gate.isOpen)
        let verdict = gate.admit("m5", chat: 1, seq: 5)
        #expect(verdict == .deliver)
    }

    @Test func liveFramesWaitDuringTheSyncAndThoseItCarriedAreDropped() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        let begun = gate.begin(1), again = gate.begin(1)
        #expect(begun)
        #expect(!again, "one sync of a chat at a time")
        let verdicts = [
            gate.admit("m7", chat: 1, seq: 7),
            gate.admit("typing", chat: 1, seq: 0),
            gate.admit("m8", chat: 1, seq: 8),
            gate.admit("other chat", chat: 2, seq: 3),
        ]
        #expect(verdicts == [.held, .held, .held, .deliver])
        // The history read saw up to 7: 7 came both ways.
        let released = gate.finish(1, through: 7)
        #expect(released == ["typing", "m8"])
        #expect(gate.isOpen, "a live message past the sync ends the watch")
    }

    @Test func aMessageFannedOutAfterTheSyncReadItIsDroppedOnce() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        _ = gate.begin(1)
        let released = gate.finish(1, through: 9)
        #expect(released.isEmpty)
        // 9 was committed before the read and fanned out after it.
        let verdicts = [gate.admit("m9", chat: 1, seq: 9), gate.admit("edited", chat: 1, seq: 0), gate.admit("m10", chat: 1, seq: 10)]
        #expect(verdicts == [.drop, .deliver, .deliver])
        #expect(gate.isOpen)
    }

    @Test func tooManyHeldFramesOverflow() {
        var gate = ResumeGate<Int>(maximumHeld: 2)
        _ = gate.begin(1)
        let verdicts = [gate.admit(1, chat: 1, seq: 1), gate.admit(2, chat: 1, seq: 2), gate.admit(3, chat: 1, seq: 3)]
        #expect(verdicts == [.held, .held, .overflow])
    }

    @Test func aCancelledSyncReleasesEverythingHeld() {
        var gate = ResumeGate<Int>(maximumHeld: 5)
        _ = gate.begin(1)
        _ = gate.admit(4, chat: 1, seq: 4)
        let released = gate.cancel(1)
        #expect(released == [4])
        #expect(gate.isOpen)
    }
}
