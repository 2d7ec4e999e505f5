import NIOCore
import NIOWebSocket
import Testing

@testable import ZvonokServer

/// The hub's reading of WebSocket frames (RFC 6455), frame by frame, without a connection.
@Suite struct WebSocketMessagesTests {
    private static func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        WebSocketFrame(
            fin: fin, opcode: opcode, maskKey: masked ? WebSocketMaskingKey([1, 2, 3, 4]) : nil,
            data: ByteBuffer(bytes: masked ? Self.masked(bytes) : bytes))
    }

    /// Clients mask their frames; the frame carries the masked bytes.
    private static func masked(_ bytes: [UInt8]) -> [UInt8] {
        bytes.enumerated().map { $0.element ^ [1, 2, 3, 4][$0.offset % 4] }
    }

    private static func text(_ string: String, fin: Bool = true, opcode: WebSocketOpcode = .text) -> WebSocketFrame {
        frame(opcode, Array(string.utf8), fin: fin)
    }

    @Test func aWholeTextFrameIsOneMessage() {
        var messages = WebSocketMessages(maximumSize: 100)
        #expect(messages.receive(Self.text(#"{"type":"ping"}"#)) == .text(#"{"type":"ping"}"#))
        #expect(messages.receive(Self.frame(.binary, [0, 1])) == .binary)
    }

    @Test func fragmentsAreJoined() {
        var messages = WebSocketMessages(maximumSize: 100)
        #expect(messages.receive(Self.text("При", fin: false)) == .none)
        // A ping may come between the fragments.
        #expect(messages.receive(Self.frame(.ping, [7])) == .pong(ByteBuffer(bytes: [7])))
        #expect(messages.receive(Self.text("вет", fin: false, opcode: .continuation)) == .none)
        #expect(messages.receive(Self.text("!", opcode: .continuation)) == .text("Привет!"))
        // And the next message starts afresh.
        #expect(messages.receive(Self.text("again")) == .text("again"))
    }

    @Test func aCharacterSplitBetweenFragmentsIsWhole() {
        var messages = WebSocketMessages(maximumSize: 100)
        let bytes = Array("ё".utf8)
        #expect(messages.receive(Self.frame(.text, [bytes[0]], fin: false)) == .none)
        #expect(messages.receive(Self.frame(.continuation, [bytes[1]])) == .text("ё"))
    }

    @Test func joinedFragmentsOverTheLimitClose1009() {
        var messages = WebSocketMessages(maximumSize: 10)
        #expect(messages.receive(Self.text("123456", fin: false)) == .none)
        #expect(messages.receive(Self.text("78901", opcode: .continuation)) == .fail(.messageTooLarge))
    }

    @Test func textThatIsNotUTF8Closes1007() {
        var messages = WebSocketMessages(maximumSize: 100)
        #expect(messages.receive(Self.frame(.text, [0x7B, 0xC3, 0x28, 0x7D])) == .fail(.dataInconsistentWithMessage))
    }

    @Test func protocolViolationsClose1002() {
        var orphan = WebSocketMessages(maximumSize: 100)
        #expect(orphan.receive(Self.text("x", opcode: .continuation)) == .fail(.protocolError), "a continuation with nothing to continue")
        var interleaved = WebSocketMessages(maximumSize: 100)
        _ = interleaved.receive(Self.text("a", fin: false))
        #expect(interleaved.receive(Self.text("b")) == .fail(.protocolError), "a new message inside a fragmented one")
        var reserved = WebSocketMessages(maximumSize: 100)
        var compressed = Self.text("x")
        compressed.rsv1 = true
        #expect(reserved.receive(compressed) == .fail(.protocolError), "a reserved bit without an extension")
        var control = WebSocketMessages(maximumSize: 100)
        #expect(control.receive(Self.frame(.ping, [1], fin: false)) == .fail(.protocolError), "a fragmented ping")
        #expect(control.receive(Self.frame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, [])) == .fail(.protocolError), "a reserved opcode")
    }

    @Test func aCloseIsAnswered() {
        var messages = WebSocketMessages(maximumSize: 100)
        #expect(messages.receive(Self.frame(.connectionClose, [])) == .closed(.normalClosure))
        #expect(messages.receive(Self.frame(.connectionClose, [0x03, 0xE8] + Array("bye".utf8))) == .closed(.normalClosure))
        #expect(messages.receive(Self.frame(.connectionClose, [0x0F, 0xA0])) == .closed(.normalClosure), "4000: private use")
        #expect(messages.receive(Self.frame(.connectionClose, [0x03])) == .closed(.protocolError), "one byte is no code")
        #expect(messages.receive(Self.frame(.connectionClose, [0x00, 0x10])) == .closed(.protocolError), "16 is no code")
        #expect(messages.receive(Self.frame(.connectionClose, [0x03, 0xE8, 0xC3, 0x28])) == .closed(.protocolError), "a reason that is not UTF-8")
    }
}
