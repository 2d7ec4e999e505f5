import Testing

@testable import ZvonokServer

/// The cluster channel's messages in their NOTIFY text form (`RelayMessage`): every kind read back as written, lists
/// packed under the payload limit, long items set aside, and payloads of another version ignored.
@Suite struct RelayMessageTests {
    static let node = "zvonok-1-a1b2"

    static func roundTrip(_ message: RelayMessage, maximum: Int = 7_900) -> [RelayMessage.Received?] {
        message.payloads(from: node, maximum: maximum).fitting.map(RelayMessage.decode)
    }

    @Test func everyKindIsReadBackAsWritten() {
        let messages: [RelayMessage] = [
            .heartbeat,
            .messages([.init(chat: 7, from: 1, through: 3), .init(chat: 12, from: 40, through: 40)]),
            .chatEvent(chat: 7, frame: #"{"type":"edited","chat":"c7","seq":2,"text":"a|b,c:d-e"}"#),
            .personEvent(person: 9, frame: #"{"type":"read","chat":"c7","user":"p9","seq":3}"#),
            .membershipChanged([3, 5, 8]),
            .sessionsEnded([.init(person: 4, token: nil), .init(person: 5, token: 17)]),
            .stored(42),
        ]
        for message in messages {
            #expect(Self.roundTrip(message) == [RelayMessage.Received(node: Self.node, message: message)], "\(message)")
        }
    }

    @Test func longListsArePackedUnderTheLimitAndNothingIsLost() {
        let ranges = (1...3_000).map { RelayMessage.ChatRange(chat: Int64($0), from: 1, through: Int64($0)) }
        let payloads = RelayMessage.messages(ranges).payloads(from: Self.node, maximum: 7_900).fitting
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count <= 7_900 })
        let readBack = payloads.flatMap { payload -> [RelayMessage.ChatRange] in
            guard case .messages(let part)? = RelayMessage.decode(payload)?.message else { return [] }
            return part
        }
        #expect(readBack == ranges)
        #expect(RelayMessage.messages([]).payloads(from: Self.node, maximum: 7_900).fitting.isEmpty, "nothing to say, no payload")
    }

    @Test func anItemTooLongForAnyPayloadIsSetAsideWhole() {
        let frame = String(repeating: "д", count: 4_000)
        let (fitting, tooLong) = RelayMessage.chatEvent(chat: 7, frame: frame).payloads(from: Self.node, maximum: 7_900)
        #expect(fitting.isEmpty)
        #expect(tooLong.count == 1)
        #expect(RelayMessage.decode(tooLong[0])?.message == .chatEvent(chat: 7, frame: frame), "stored whole, read back whole")
    }

    @Test func payloadsThisVersionCannotReadAreIgnored() {
        for payload in [
            "", "h", "m|n|", "x|n|1", "mm|n|1:1-2", "m|n|1:1", "k|n|3,x", "r|n|4:", "r|n|4:5:6", "b|n|", "e|n|notanumber|{}", "j|n|1.2.1",
        ] {
            #expect(RelayMessage.decode(payload) == nil || payload == "m|n|", "\(payload)")
        }
        #expect(RelayMessage.decode("m|n|")?.message == .messages([]))
    }
}
