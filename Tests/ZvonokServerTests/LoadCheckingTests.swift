import Testing
import ZvonokLoadKit

/// The load generator's own rules, without a server: the per-chat sequence checks and the open-loop schedule.
@Suite struct LoadCheckingTests {
    @Test func inOrderMessagesAreAccepted() {
        var chat = ChatSequence(seen: 3)
        #expect(chat.receive(4) == .accepted)
        #expect(chat.receive(5) == .accepted)
        #expect(chat.seen == 5)
        #expect(chat.hasSeen(upTo: 5))
    }

    @Test func aRepeatIsADuplicateAndASkipIsAGapUntilTheLateOneArrives() {
        var chat = ChatSequence(seen: 0)
        #expect(chat.receive(1) == .accepted)
        #expect(chat.receive(1) == .duplicate)
        #expect(chat.receive(4) == .gap(missing: 2))
        #expect(!chat.hasSeen(upTo: 4))
        #expect(chat.receive(2) == .reordered)
        #expect(chat.receive(3) == .reordered)
        #expect(chat.hasSeen(upTo: 4))
        #expect(chat.receive(3) == .duplicate)
    }

    @Test func liveFramesThatRaceASyncAreNotCountedTwice() {
        var chat = ChatSequence(seen: 10)
        chat.beginSync()
        // Live 13 arrives before the server starts the sync; the sync then delivers 11…13 and says synced 13.
        #expect(chat.receive(13) == .held)
        #expect(chat.receive(11) == .accepted)
        #expect(chat.receive(12) == .accepted)
        #expect(chat.receive(13) == .accepted)
        #expect(chat.endSync(last: 13, fromHistory: false) == 0)
        #expect(chat.receive(14) == .accepted)
        #expect(chat.receive(13) == .duplicate)
    }

    @Test func liveFramesTakenBeforeTheSyncBeganComeOnceMoreFromIt() {
        var chat = ChatSequence(seen: 10)
        chat.beginSync()
        // 11 and 12 go out live before the server reads the sync, which then sends everything after 10.
        #expect(chat.receive(11) == .accepted)
        #expect(chat.receive(12) == .accepted)
        #expect(chat.receive(11) == .expectedRepeat)
        #expect(chat.receive(12) == .expectedRepeat)
        #expect(chat.receive(13) == .accepted)
        #expect(chat.receive(12) == .duplicate)
        #expect(chat.endSync(last: 13, fromHistory: false) == 0)
        #expect(chat.receive(11) == .duplicate)
    }

    @Test func aSyncThatLeavesAHoleBeforeTheHeldFramesIsAGap() {
        var chat = ChatSequence(seen: 10)
        chat.beginSync()
        #expect(chat.receive(15) == .held)
        #expect(chat.receive(11) == .accepted)
        #expect(chat.endSync(last: 11, fromHistory: false) == 3)
        #expect(chat.seen == 15)
        #expect(!chat.hasSeen(upTo: 15))
    }

    @Test func afterAHistoryCatchUpLiveRepeatsAreExpected() {
        var chat = ChatSequence(seen: 5)
        chat.beginSync()
        #expect(chat.receive(6) == .accepted)
        #expect(chat.receive(7) == .accepted)
        chat.endSync(last: 7, fromHistory: true)
        // The fan-out of 7 was still on its way when history was read.
        #expect(chat.receive(7) == .expectedRepeat)
        #expect(chat.receive(8) == .accepted)
    }

    @Test func theScheduleIssuesTheRateAndBurstsAtBreaks() {
        let steady = SendSchedule(rate: 1000)
        #expect(steady.count(at: 1) == 1000)
        #expect(abs(steady.time(of: 499) - 0.5) < 1e-9)
        let day = SendSchedule(rate: 10, lessonSeconds: 8, breakSeconds: 2, breakFactor: 5)
        #expect(day.count(at: 8) == 80)
        #expect(day.count(at: 10) == 180)
        #expect(day.count(at: 20) == 360)
        // Send k is due at the time by which k + 1 sends are due.
        for k in [0, 79, 80, 150, 179, 180, 359] {
            #expect(day.count(at: day.time(of: k) + 1e-9) == k + 1)
        }
    }
}
