import Testing
import ZvonokCore

@Suite struct ChatSequencerTests {
    @Test func messagesAheadOfAGapWaitForIt() {
        var sequencer = ChatSequencer<String>()
        _ = sequencer.watch(1, from: 4, alreadyWatched: false)
        let ahead = sequencer.offer("m7", chat: 1, seq: 7)
        #expect(ahead.deliver.isEmpty)
        #expect(ahead.missing == 5...6, "the gap is read from the table")
        let again = sequencer.offer("m7", chat: 1, seq: 7)
        #expect(again.deliver.isEmpty && again.missing == nil, "held once, the gap asked for once")
        #expect(sequencer.offer("m5", chat: 1, seq: 5).deliver == ["m5"])
        #expect(sequencer.offer("m6", chat: 1, seq: 6).deliver == ["m6", "m7"])
        #expect(sequencer.offer("m6", chat: 1, seq: 6).deliver.isEmpty, "delivered already")
        #expect(sequencer.delivered(1) == 7)
    }

    @Test func aChatWatchedAlreadyKeepsItsWatermarkForNewSessions() {
        var sequencer = ChatSequencer<String>()
        _ = sequencer.watch(1, from: 3, alreadyWatched: false)
        // The table is at 9 by now, but this node has delivered only 3: new sessions start after 3, with the rest.
        #expect(sequencer.watch(1, from: 9, alreadyWatched: true) == 3)
        #expect(sequencer.offer("m4", chat: 1, seq: 4).deliver == ["m4"])
    }

    @Test func aChatNobodyWatchedStartsOverWhereTheTableIs() {
        var sequencer = ChatSequencer<String>()
        _ = sequencer.watch(1, from: 3, alreadyWatched: false)
        // Its last watcher left at 3 and messages went on without this node: that watermark is stale.
        #expect(sequencer.watch(1, from: 9, alreadyWatched: false) == 9)
        #expect(sequencer.offer("m9", chat: 1, seq: 9).deliver.isEmpty)
        #expect(sequencer.offer("m10", chat: 1, seq: 10).deliver == ["m10"])
    }

    @Test func aGapUnreadForNowIsAskedForAgainWithTheNextMessage() {
        var sequencer = ChatSequencer<String>()
        _ = sequencer.watch(1, from: 0, alreadyWatched: false)
        #expect(sequencer.offer("m3", chat: 1, seq: 3).missing == 1...2)
        // The read failed (the database is failing over): m3 stays held, and m4 asks for the gap again.
        sequencer.gapUnread(of: 1)
        let next = sequencer.offer("m4", chat: 1, seq: 4)
        #expect(next.deliver.isEmpty)
        #expect(next.missing == 1...3)
        #expect(sequencer.offer("m1", chat: 1, seq: 1).deliver == ["m1"])
        #expect(sequencer.offer("m2", chat: 1, seq: 2).deliver == ["m2", "m3", "m4"])
    }

    @Test func aGapThatCannotBeReadIsSkipped() {
        var sequencer = ChatSequencer<String>()
        _ = sequencer.watch(1, from: 0, alreadyWatched: false)
        _ = sequencer.offer("m3", chat: 1, seq: 3)
        _ = sequencer.offer("m4", chat: 1, seq: 4)
        #expect(sequencer.skipGap(of: 1) == ["m3", "m4"])
        #expect(sequencer.delivered(1) == 4)
    }
}
