import DequeModule
import Synchronization
import Testing

@testable import ZvonokCore

@Suite struct FanoutHubTests {
    final class RecordingSink: FrameSink, Sendable {
        let received = Mutex<[String]>([])
        func enqueue(_ payload: String) { received.withLock { $0.append(payload) } }
        var frames: [String] { received.withLock { $0 } }
    }

    @Test func deliversToExactlyTheChatsFollowers() {
        let hub = FanoutHub<RecordingSink>(shards: 4)
        let alice = RecordingSink(), alicePhone = RecordingSink(), bob = RecordingSink(), carol = RecordingSink()
        hub.register(alice, person: 1, chats: [10, 11])
        hub.register(alicePhone, person: 1, chats: [10, 11])
        hub.register(bob, person: 2, chats: [10])
        hub.register(carol, person: 3, chats: [12])
        #expect(hub.deliver("a", to: 10) == 3)
        #expect(hub.deliver("b", to: 11) == 2)
        #expect(hub.deliver("c", to: 99) == 0)
        #expect(alice.frames == ["a", "b"])
        #expect(alicePhone.frames == ["a", "b"])
        #expect(bob.frames == ["a"])
        #expect(carol.frames == [])
    }

    @Test func chatsReadAtANewerVersionReplaceTheOlderAndOlderReadsAreDropped() {
        let hub = FanoutHub<RecordingSink>(shards: 4)
        let phone = RecordingSink(), laptop = RecordingSink()
        hub.register(phone, person: 7, chats: [100, 101], version: 3)
        // Moved to another class: every connection of the person follows, and the change is reported.
        #expect(
            hub.replaceChats(of: 7, with: [101, 200], version: 4) == [
                MembershipChange(chatID: 100, personID: 7, joined: false), MembershipChange(chatID: 200, personID: 7, joined: true),
            ])
        // A read that raced the move and lost (version 3) changes nothing.
        #expect(hub.replaceChats(of: 7, with: [100, 101], version: 3).isEmpty)
        // A connection whose chats were read before the move follows the newer set.
        hub.register(laptop, person: 7, chats: [100, 101], version: 3)
        hub.deliver("old class", to: 100)
        hub.deliver("new class", to: 200)
        #expect(phone.frames == ["new class"])
        #expect(laptop.frames == ["new class"])
        #expect(hub.membershipVersions().map(\.version) == [4])
        #expect(hub.sinks(of: 7).count == 2)
        // Nobody connected: nothing to follow.
        #expect(hub.replaceChats(of: 8, with: [100], version: 9).isEmpty)
    }

    @Test func membershipChangesReachOpenConnections() {
        let hub = FanoutHub<RecordingSink>(shards: 4)
        let student = RecordingSink()
        hub.register(student, person: 7, chats: [100], version: 1)
        hub.replaceChats(of: 7, with: [200], version: 2)
        hub.deliver("old class", to: 100)
        hub.deliver("new class", to: 200)
        #expect(student.frames == ["new class"])
        #expect(!hub.isWatched(100))
        // Joining twice does not deliver twice; changes for people with no connection are ignored.
        hub.replaceChats(of: 7, with: [200], version: 3)
        hub.replaceChats(of: 8, with: [200], version: 1)
        hub.deliver("once", to: 200)
        #expect(student.frames == ["new class", "once"])
    }

    @Test func unregisteredSessionsReceiveNothingAndOthersKeepFlowing() {
        let hub = FanoutHub<RecordingSink>(shards: 4)
        let first = RecordingSink(), second = RecordingSink()
        hub.register(first, person: 1, chats: [5])
        hub.register(second, person: 1, chats: [5])
        hub.unregister(first, person: 1)
        hub.deliver("x", to: 5)
        #expect(first.frames == [])
        #expect(second.frames == ["x"])
        hub.unregister(second, person: 1)
        #expect(!hub.isWatched(5))
        #expect(hub.deliver("y", toPerson: 1) == 0)
    }

    @Test func aPersonAtTheLimitCannotRegisterAnotherConnection() {
        let hub = FanoutHub<RecordingSink>(shards: 2)
        let first = RecordingSink(), second = RecordingSink(), third = RecordingSink()
        #expect(hub.register(first, person: 1, chats: [5], limit: 2))
        #expect(hub.register(second, person: 1, chats: [5], limit: 2))
        #expect(!hub.register(third, person: 1, chats: [5], limit: 2))
        #expect(hub.sessionCount(of: 1) == 2)
        hub.deliver("x", to: 5)
        #expect(third.frames == [])
        hub.unregister(first, person: 1)
        #expect(hub.register(third, person: 1, chats: [5], limit: 2))
    }

    @Test func typingIsNotEchoedToItsSender() {
        let hub = FanoutHub<RecordingSink>(shards: 2)
        let sender = RecordingSink(), other = RecordingSink()
        hub.register(sender, person: 1, chats: [3])
        hub.register(other, person: 2, chats: [3])
        #expect(hub.deliver("typing", to: 3, except: sender) == 1)
        #expect(sender.frames.isEmpty)
    }
}

@Suite struct OutboundQueueTests {
    @Test func schedulesOneDrainPerBurstAndKeepsOrder() {
        var queue = OutboundQueue<Int>(maximumFrames: 10, maximumBytes: 1000)
        #expect(queue.enqueue(1, bytes: 10) == .scheduleDrain)
        #expect(queue.enqueue(2, bytes: 10) == .none)
        #expect(queue.enqueue(3, bytes: 10) == .none)
        var burst = Deque<Int>()
        queue.drain(into: &burst)
        #expect(Array(burst) == [1, 2, 3])
        #expect(queue.byteCount == 0)
        #expect(queue.enqueue(4, bytes: 10) == .scheduleDrain)
    }

    @Test func overflowsOnceByFramesOrBytes() {
        var byFrames = OutboundQueue<Int>(maximumFrames: 2, maximumBytes: 1000)
        #expect(byFrames.enqueue(1, bytes: 1) == .scheduleDrain)
        #expect(byFrames.enqueue(2, bytes: 1) == .none)
        #expect(byFrames.enqueue(3, bytes: 1) == .overflow)
        #expect(byFrames.enqueue(4, bytes: 1) == .none)
        #expect(byFrames.overflowed)
        var burst = Deque<Int>()
        byFrames.drain(into: &burst)
        #expect(burst.isEmpty)

        var byBytes = OutboundQueue<Int>(maximumFrames: 100, maximumBytes: 100)
        #expect(byBytes.enqueue(1, bytes: 60) == .scheduleDrain)
        #expect(byBytes.enqueue(2, bytes: 60) == .overflow)
    }
}

@Suite struct RateLimiterTests {
    @Test func refillsOverTimeAndBoundsBursts() {
        let limiter = RateLimiter(.init(capacity: 2, perSecond: 1))
        let start = ContinuousClock.now
        #expect(limiter.allow("a", now: start))
        #expect(limiter.allow("a", now: start))
        #expect(!limiter.allow("a", now: start))
        #expect(limiter.allow("b", now: start))
        #expect(!limiter.hasCapacity("a", now: start + .milliseconds(500)))
        #expect(limiter.allow("a", now: start + .seconds(1)))
    }
}
