import NIOCore
import NIOWebSocket

/// A WebSocket frame from the server as the bytes that go on the socket (RFC 6455 §5.2): header, then payload.
///
/// A server's frames are never masked, so a chat frame's bytes are the same for each of its recipients. Encoded here
/// once per message, they are written below NIO's `WebSocketFrameEncoder` (`HubConnection.drain`), instead of every
/// recipient's write passing the pipeline's handlers and the encoder making a header buffer and a second iovec for
/// it: at 30 deliveries a message, that was a tenth of the server's CPU under light load (docs/performance.md).
struct WireFrame: Sendable {
    /// Header and payload, ready for the socket.
    let bytes: ByteBuffer
    private let headerLength: Int

    /// The longest header: two bytes, and eight of length for a payload of 64 KiB or more. `JSONObjectWriter`
    /// leaves this much room in front of what it writes, so a frame's header goes there, without a copy.
    static let headroom = 10

    /// Frames `payload` as one final frame of `opcode`; in place when the payload's buffer has room in front of it
    /// (and no other holder), else in a new buffer.
    init(_ opcode: WebSocketOpcode, payload: consuming ByteBuffer) {
        let length = payload.readableBytes
        let headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10
        var bytes = consume payload
        if bytes.readerIndex >= headerLength {
            bytes.moveReaderIndex(to: bytes.readerIndex - headerLength)
        } else {
            var framed = ByteBuffer()
            framed.reserveCapacity(headerLength + length)
            framed.moveWriterIndex(forwardBy: headerLength)
            framed.moveReaderIndex(forwardBy: headerLength)
            framed.writeBuffer(&bytes)
            framed.moveReaderIndex(to: 0)
            bytes = framed
        }
        let start = bytes.readerIndex
        bytes.setInteger(0x80 | UInt8(webSocketOpcode: opcode), at: start)
        switch headerLength {
        case 2:
            bytes.setInteger(UInt8(length), at: start + 1)
        case 4:
            bytes.setInteger(UInt8(126), at: start + 1)
            bytes.setInteger(UInt16(length), at: start + 2)
        default:
            bytes.setInteger(UInt8(127), at: start + 1)
            bytes.setInteger(UInt64(length), at: start + 2)
        }
        self.bytes = bytes
        self.headerLength = headerLength
    }

    /// The payload alone, sharing the frame's storage.
    var payload: ByteBuffer {
        var payload = bytes
        payload.moveReaderIndex(forwardBy: headerLength)
        return payload
    }

    /// A text frame: every frame of the hub's protocol.
    static func text(_ payload: consuming ByteBuffer) -> WireFrame {
        WireFrame(.text, payload: payload)
    }
}
