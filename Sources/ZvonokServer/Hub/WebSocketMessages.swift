import NIOCore
import NIOWebSocket

/// A client's WebSocket frames turned into whole messages and the protocol's answers (RFC 6455), on the event loop:
/// fragments are joined up to the message limit, text is checked to be UTF-8, pings are answered, and a close frame
/// is answered in kind. NIO's decoder has already refused single frames over the limit (1009) and malformed ones.
///
/// WSCore does this for Hummingbird's WebSocket handler inside a task per connection; the hub reads frames where they
/// arrive instead (`HubChannelHandler`), so it keeps the same rules here. No extension is negotiated, so a frame with
/// a reserved bit set is a protocol error.
struct WebSocketMessages {
    /// What a frame asks of the connection.
    enum Event: Equatable {
        /// Nothing yet (a fragment, a pong).
        case none
        /// A whole text message.
        case text(String)
        /// A whole binary message (the hub speaks JSON text only).
        case binary
        /// Answer a ping with this payload.
        case pong(ByteBuffer)
        /// The client broke the protocol: close with this code.
        case fail(WebSocketErrorCode)
        /// The client closed: answer with this code, then close.
        case closed(WebSocketErrorCode)
    }

    /// The largest message, fragments joined.
    let maximumSize: Int
    /// The message being joined from fragments, and whether it is text.
    private var fragments: (buffer: ByteBuffer, isText: Bool)?

    init(maximumSize: Int) {
        self.maximumSize = maximumSize
    }

    mutating func receive(_ frame: WebSocketFrame) -> Event {
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard frame.reservedBits.isEmpty else { return .fail(.protocolError) }
            return receiveData(frame)
        case .ping:
            guard frame.fin, frame.length < 126 else { return .fail(.protocolError) }
            return .pong(frame.unmaskedData)
        case .pong:
            return frame.fin ? .none : .fail(.protocolError)
        case .connectionClose:
            return .closed(Self.answer(toClose: frame))
        default:
            return .fail(.protocolError)
        }
    }

    private mutating func receiveData(_ frame: WebSocketFrame) -> Event {
        var buffer: ByteBuffer
        let isText: Bool
        switch (frame.opcode, fragments) {
        case (.continuation, nil), (.text, .some), (.binary, .some):
            return .fail(.protocolError)
        case (.continuation, .some(let started)):
            guard started.buffer.readableBytes + frame.length <= maximumSize else { return .fail(.messageTooLarge) }
            (buffer, isText) = started
            fragments = nil
            var data = frame.unmaskedData
            buffer.writeBuffer(&data)
        default:
            (buffer, isText) = (frame.unmaskedData, frame.opcode == .text)
        }
        guard frame.fin else {
            fragments = (buffer, isText)
            return .none
        }
        guard isText else { return .binary }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else { return .fail(.dataInconsistentWithMessage) }
        return .text(text)
    }

    /// A close frame is answered with 1000, or 1002 when its code is not one a peer may send or its reason is not
    /// UTF-8 (as WSCore does).
    private static func answer(toClose frame: WebSocketFrame) -> WebSocketErrorCode {
        var data = frame.unmaskedData
        guard frame.reservedBits.isEmpty, data.readableBytes != 1 else { return .protocolError }
        guard let code = data.readWebSocketErrorCode() else { return .normalClosure }
        if case .unknown(let raw) = code, raw < 3000 || raw > 4999 { return .protocolError }
        guard String(validating: data.readableBytesView, as: UTF8.self) != nil else { return .protocolError }
        return .normalClosure
    }
}
