import Foundation
import Hummingbird
import HummingbirdWSTesting
import NIOCore
import NIOWebSocket
import Testing
import WSClient
import ZvonokServer

/// Hostile input on `/v1/ws` (issue 8): thousands of generated frames that the protocol refuses, each answered with
/// one `error` frame, while other people's conversation goes on untouched; and the frames that close a connection
/// (invalid UTF-8) close only that one. The seed is random per run and printed on failure; set `ZVONOK_FUZZ_SEED`
/// to replay one.
@Suite struct WebSocketFuzzTests {
    static let fuzzers = 4
    static let framesPerFuzzer = 1_000
    static let conversation = 300

    /// What one fuzzing connection sent and got back.
    struct Outcome: Sendable {
        var sent = 0
        var refused = 0
        var refMismatches = 0
    }

    @Test func thousandsOfHostileFramesAreEachRefusedWhileOthersTalk() async throws {
        let seed = ProcessInfo.processInfo.environment["ZVONOK_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        try await withTestServer(configure: { $0.sendRate = 0 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let foreign = try await WebSocketOrderTests.classChat(api, school, of: "teacher6")
            let outcomes = try await withThrowingTaskGroup(of: Outcome?.self) { group in
                for fuzzer in 0..<Self.fuzzers {
                    group.addTask {
                        try await withSocket(api, token: school.token("student1")) { socket, _ in
                            var generator = HostileFrames(seed: seed &+ UInt64(fuzzer), ownChat: chat, foreignChat: foreign)
                            return try await Self.fuzz(socket, with: &generator)
                        }.result
                    }
                }
                group.addTask {
                    try await Self.converse(in: chat, api, school); return nil
                }
                return try await group.reduce(into: [Outcome]()) { if let outcome = $1 { $0.append(outcome) } }
            }
            #expect(outcomes.count == Self.fuzzers)
            for outcome in outcomes {
                #expect(outcome.refused == outcome.sent, "every hostile frame answered by one error frame (seed \(seed))")
                #expect(outcome.refMismatches == 0, "errors carry the frame's ref (seed \(seed))")
            }
        }
    }

    @Test func framesOutsideTheProtocolAreRefusedOrCloseOnlyTheirConnection() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            try await withSocket(api, token: school.token("student2")) { bystander, _ in
                try await withSocket(api, token: school.token("student1")) { socket, _ in
                    // A binary frame: refused, the connection stays.
                    try await socket.send(raw: WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0, 1, 2, 0xFF])))
                    #expect(try await socket.next("error")["code"] as? String == "invalid_argument")
                    // A frame in three fragments is one frame.
                    let parts = [#"{"ty"#, #"pe":"pi"#, #"ng"}"#]
                    try await socket.send(raw: WebSocketFrame(fin: false, opcode: .text, data: ByteBuffer(string: parts[0])))
                    try await socket.send(raw: WebSocketFrame(fin: false, opcode: .continuation, data: ByteBuffer(string: parts[1])))
                    try await socket.send(raw: WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(string: parts[2])))
                    _ = try await socket.next("pong")
                    // Floods of protocol pings and of WebSocket pings: every protocol ping answered — with a pong, or with
                    // `rate_limited` beyond the person's allowance — and the connection lives.
                    for _ in 0..<2_000 { try await socket.send(raw: WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "p"))) }
                    for _ in 0..<2_000 { try await socket.send(#"{"type":"ping"}"#) }
                    var answers: [String: Int] = [:]
                    while answers.values.reduce(0, +) < 2_000 {
                        let frame = try await socket.next()
                        if frame.type == "pong" { answers["pong", default: 0] += 1 }
                        if frame.type == "error" { answers[frame["code"] as? String ?? "?", default: 0] += 1 }
                    }
                    #expect(answers.keys.sorted() == ["pong", "rate_limited"], "\(answers)")
                }
                // Invalid UTF-8 in a text frame closes that connection with 1007.
                let close = try await api.client.ws(
                    "/v1/ws", configuration: .init(additionalHeaders: [.authorization: "Bearer \(school.token("student1"))"])
                ) { inbound, outbound, _ in
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x7B, 0xC3, 0x28, 0x7D]))))
                    for try await _ in inbound.messages(maxSize: 1 << 20) {}
                }
                #expect(close?.closeCode == .dataInconsistentWithMessage)
                // The bystander was never touched.
                try await bystander.send(#"{"type":"ping"}"#)
                _ = try await bystander.next("pong")
            }
        }
    }

    /// Sends the generator's frames, then a ping; counts the error frames before the pong.
    private static func fuzz(_ socket: TestSocket, with generator: inout HostileFrames) async throws -> Outcome {
        var refs: [String?] = []
        for _ in 0..<framesPerFuzzer {
            let frame = generator.next()
            refs.append(frame.ref)
            try await socket.send(frame.text)
        }
        try await socket.send(#"{"type":"ping"}"#)
        var outcome = Outcome(sent: refs.count)
        while true {
            let frame = try await socket.next()
            if frame.type == "pong" { break }
            guard frame.type == "error" else { continue }  // the class chat's live messages
            if outcome.refused < refs.count, let ref = refs[outcome.refused], frame["ref"] as? String != ref { outcome.refMismatches += 1 }
            outcome.refused += 1
        }
        return outcome
    }

    /// A teacher posts while a student reads: every message arrives, in order, despite the fuzzers beside them.
    private static func converse(in chat: String, _ api: APIClient, _ school: SchoolFixture) async throws {
        try await withSocket(api, token: school.token("student2")) { reader, _ in
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                for index in 1...conversation {
                    try await teacher.send(["type": "send", "chat": chat, "cid": "talk-\(index)", "text": "сообщение \(index)"])
                }
                _ = try await teacher.collect(conversation, "ack", in: chat)
            }
            let seqs = try await reader.collect(conversation, "msg", in: chat).map { $0.seq! }
            #expect(seqs == Array(1...conversation))
        }
    }
}

/// Generates text frames that the protocol must refuse: broken JSON, non-objects, wrong types, numbers out of range,
/// deep nesting, unknown types, and well-formed frames about chats one is not in. Deterministic for a seed.
struct HostileFrames {
    private var random: SplitMix64
    private let ownChat: String
    private let foreignChat: String
    private var count = 0

    init(seed: UInt64, ownChat: String, foreignChat: String) {
        self.random = SplitMix64(seed: seed)
        self.ownChat = ownChat
        self.foreignChat = foreignChat
    }

    /// The next frame, and the `ref` its error must carry (nil when the frame has none the server can read).
    mutating func next() -> (text: String, ref: String?) {
        count += 1
        let ref = "f\(count)"
        switch random.next(below: 7) {
        case 0: return (truncated(), nil)
        case 1: return (notAnObject(), nil)
        case 2: return (json(wrongTyped(ref: ref)), ref)
        case 3: return (deeplyNested(), nil)
        case 4:
            return (json(["type": pick(["", "sendd", "SEND", "msg", "ack", "ready", "синк", String(repeating: "x", count: 500)]), "ref": ref]), ref)
        case 5: return (json(aboutAnotherChat(ref: ref)), ref)
        default: return (json(badText(ref: ref)), ref)
        }
    }

    /// A proper prefix of a valid frame: never valid JSON.
    private mutating func truncated() -> String {
        let whole = json(["type": "send", "chat": ownChat, "cid": "t\(count)", "text": "Привет, класс! \(count)"])
        return String(whole.prefix(random.next(below: whole.count - 1) + 1))
    }

    private mutating func notAnObject() -> String {
        pick([
            "[]", "null", "true", "42", "-0.5e9", #""send""#, "", " ", "{", "}", "{{}}", "[{\"type\":\"ping\"}]", "\u{FEFF}{}", "{}",
            "{\"type\":1}", String(repeating: "\u{0}", count: 3), garbage(),
        ])
    }

    private mutating func garbage() -> String {
        let alphabet = Array("{}[]\":,0123456789abcxyzабв \\\n\t-+.eE")
        return String((0..<random.next(below: 200)).map { _ in alphabet[random.next(below: alphabet.count)] })
    }

    /// A frame of a real type with one field of the wrong type or out of range.
    private mutating func wrongTyped(ref: String) -> [String: Any] {
        let badChats: [Any] = [
            7, true, NSNull(), [ownChat], ["id": ownChat], "", "chat", "c", "c0", "c-1", "c1.5", "p1", "c99999999999999999999", ownChat + " ",
        ]
        let badSeqs: [Any] = ["5", true, false, 1.5, -1, 1e300, 1e22, Double.greatestFiniteMagnitude, NSNull(), [1], ["seq": 1]]
        switch random.next(below: 6) {
        case 0: return ["type": "send", "chat": pick(badChats), "cid": ref, "text": "x", "ref": ref]
        case 1: return ["type": "sync", "chat": ownChat, "after": pick(badSeqs), "ref": ref]
        case 2: return ["type": "read", "chat": ownChat, "seq": pick(badSeqs), "ref": ref]
        case 3: return ["type": "edit", "chat": ownChat, "seq": pick(badSeqs + [0]), "text": "x", "ref": ref]
        case 4: return ["type": "typing", "chat": pick(badChats), "ref": ref]
        default:
            return [
                "type": "send", "chat": ownChat, "cid": pick(["", String(repeating: "k", count: 101), 12, NSNull()] as [Any]), "text": "x",
                "ref": ref,
            ]
        }
    }

    /// Arrays nested thousands deep where a chat id belongs (within the 64 KiB frame limit).
    private mutating func deeplyNested() -> String {
        let depth = 100 + random.next(below: 20_000)
        return #"{"type":"send","cid":"n","text":"x","chat":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
    }

    /// Well-formed frames about a chat of another class, or one that does not exist.
    private mutating func aboutAnotherChat(ref: String) -> [String: Any] {
        let chat = pick([foreignChat, "c999999999", "c\(Int64.max)"])
        return pick([
            ["type": "send", "chat": chat, "cid": ref, "text": "подглядываю"],
            ["type": "sync", "chat": chat, "after": 0, "ref": ref],
            ["type": "read", "chat": chat, "seq": 1, "ref": ref],
            ["type": "edit", "chat": chat, "seq": 1, "text": "x", "ref": ref],
            ["type": "delete", "chat": chat, "seq": 1, "ref": ref],
            ["type": "typing", "chat": chat, "ref": ref],
        ])
    }

    /// A send to one's own chat whose text breaks the rules: empty, not a string, too long.
    private mutating func badText(ref: String) -> [String: Any] {
        ["type": "send", "chat": ownChat, "cid": ref, "text": pick(["", NSNull(), 5, ["a"], String(repeating: "я", count: 4_097)] as [Any])]
    }

    private mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[random.next(below: elements.count)]
    }

    private func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}

/// A small, fast, seedable generator (SplitMix64), so that a failing run can be replayed.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(max(bound, 1)))
    }
}
