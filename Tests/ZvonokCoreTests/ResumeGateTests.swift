import Testing
import ZvonokCore

@Suite struct ResumeGateTests {
    @Test func anOpenGateDeliversEverything() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        #expect(gate.isOpen)
        #expect(gate.admit("m5", chat: 1, seq: 5) == .deliver)
    }

    @Test func liveFramesWaitDuringTheSyncAndThoseItCarriedAreDropped() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        #expect(gate.begin(1))
        #expect(!gate.begin(1), "one sync of a chat at a time")
        #expect(gate.admit("m7", chat: 1, seq: 7) == .held)
        #expect(gate.admit("typing", chat: 1, seq: 0) == .held)
        #expect(gate.admit("m8", chat: 1, seq: 8) == .held)
        #expect(gate.admit("other chat", chat: 2, seq: 3) == .deliver)
        // The history read saw up to 7: 7 came both ways.
        #expect(gate.finish(1, through: 7) == ["typing", "m8"])
        #expect(gate.isOpen, "a live message past the sync ends the watch")
    }

    @Test func aMessageFannedOutAfterTheSyncReadItIsDroppedOnce() {
        var gate = ResumeGate<String>(maximumHeld: 10)
        #expect(gate.begin(1))
        #expect(gate.finish(1, through: 9).isEmpty)
        // Committed before the read, fanned out after it.
        #expect(gate.admit("m9", chat: 1, seq: 9) == .drop)
        #expect(gate.admit("edited", chat: 1, seq: 0) == .deliver)
        #expect(gate.admit("m10", chat: 1, seq: 10) == .deliver)
        #expect(gate.isOpen)
    }

    @Test func tooManyHeldFramesOverflow() {
        var gate = ResumeGate<Int>(maximumHeld: 2)
        #expect(gate.begin(1))
        #expect(gate.admit(1, chat: 1, seq: 1) == .held)
        #expect(gate.admit(2, chat: 1, seq: 2) == .held)
        #expect(gate.admit(3, chat: 1, seq: 3) == .overflow)
    }

    @Test func aCancelledSyncReleasesEverythingHeld() {
        var gate = ResumeGate<Int>(maximumHeld: 5)
        #expect(gate.begin(1))
        _ = gate.admit(4, chat: 1, seq: 4)
        #expect(gate.cancel(1) == [4])
        #expect(gate.isOpen)
    }
}
