import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import ZvonokServer

/// The hub's hand-written encoders agree with Foundation's.
@Suite struct FrameEncodingTests {
    // Whole seconds: Foundation's formatter works from a Double and can be a millisecond off elsewhere.
    @Test(arguments: [Int64(0), 951_782_400_000, 1_709_164_800_000, 1_764_059_400_000, 4_102_444_799_000])
    func timestampsMatchFoundationsFormatter(milliseconds: Int64) {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let foundation = date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        #expect(Wire.timestamp(milliseconds: milliseconds) == foundation)
    }

    @Test func timestampsKeepTheirMilliseconds() {
        #expect(Wire.timestamp(milliseconds: 1_764_059_400_123) == "2025-11-25T08:30:00.123Z")
        #expect(Wire.timestamp(milliseconds: 1_709_251_199_999) == "2024-02-29T23:59:59.999Z")
        #expect(Wire.timestamp(milliseconds: 7) == "1970-01-01T00:00:00.007Z")
    }

    @Test func stringsAreEscapedAndReadBackIntact() throws {
        let tricky = "Кавычки \" и \\ обратная черта\nстрока\tтаб \u{01} и эмодзи 👍"
        var writer = JSONObjectWriter()
        writer.string("text", tricky)
        writer.number("seq", -42)
        writer.bool("deleted", true)
        writer.null("ref")
        writer.objects("items", [1, 2]) { object, item in object.number("n", Int64(item)) }
        let bytes = writer.finish()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any])
        #expect(object["text"] as? String == tricky)
        #expect(object["seq"] as? Int == -42)
        #expect(object["deleted"] as? Bool == true)
        #expect(object["ref"] is NSNull)
        #expect((object["items"] as? [[String: Int]]) == [["n": 1], ["n": 2]])
    }

    /// `WireFrame` writes the bytes NIO's `WebSocketFrameEncoder` writes, at each length's header size (7-bit,
    /// 16-bit, 64-bit), whether it frames a `JSONObjectWriter`'s buffer in place or copies a buffer without room.
    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536, 70_000])
    func wireFramesAreWhatNIOsEncoderWrites(length: Int) throws {
        let text = String(repeating: "я", count: length / 2) + String(repeating: "x", count: length % 2)
        var writer = JSONObjectWriter()
        writer.string("t", text)
        let json = writer.finish()
        let expected = try Self.encodedByNIO(WebSocketFrame(fin: true, opcode: .text, data: json))
        #expect(WireFrame.text(json).bytes == expected)
        #expect(WireFrame.text(ByteBuffer(buffer: json)).bytes == expected)  // a copy, read index 0: no room
        #expect(WireFrame.text(json).payload == json)
        let pong = ByteBuffer(string: String(repeating: "p", count: min(length, 125)))
        #expect(WireFrame(.pong, payload: pong).bytes == (try Self.encodedByNIO(WebSocketFrame(fin: true, opcode: .pong, data: pong))))
    }

    private static func encodedByNIO(_ frame: WebSocketFrame) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeOutbound(frame)
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        _ = try channel.finish()
        return bytes
    }
}
