import Foundation
import NIOCore

/// Writes one flat JSON object straight into a `ByteBuffer`: the hub's outbound frames.
///
/// Hand-written rather than `JSONSerialization` or `JSONEncoder`: a profile of the durable-throughput run showed
/// Foundation's encoder taking 38 % of the server's CPU (boxing every value, sorting nothing, allocating per key),
/// while a frame is a handful of known keys with strings and integers. Strings are escaped as RFC 8259 requires
/// (quote, backslash, control characters); other characters, Cyrillic included, are written as UTF-8.
struct JSONObjectWriter {
    private var buffer: ByteBuffer
    private var empty = true

    /// Leaves `WireFrame.headroom` bytes free in front of the object, where its WebSocket header goes.
    init(capacity: Int = 256) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(WireFrame.headroom + capacity)
        buffer.moveWriterIndex(forwardBy: WireFrame.headroom)
        buffer.moveReaderIndex(forwardBy: WireFrame.headroom)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    mutating func string(_ key: StaticString, _ value: String) {
        self.key(key)
        writeEscaped(value)
    }

    mutating func number(_ key: StaticString, _ value: Int64) {
        self.key(key)
        buffer.writeString(String(value))
    }

    mutating func bool(_ key: StaticString, _ value: Bool) {
        self.key(key)
        buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func null(_ key: StaticString) {
        self.key(key)
        buffer.writeStaticString("null")
    }

    /// An array of objects, each written by `body`.
    mutating func objects<Items: Sequence>(_ key: StaticString, _ items: Items, _ body: (inout JSONObjectWriter, Items.Element) -> Void) {
        self.key(key)
        buffer.writeInteger(UInt8(ascii: "["))
        var first = true
        for item in items {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            var object = JSONObjectWriter(capacity: 128)
            body(&object, item)
            var bytes = object.finish()
            buffer.writeBuffer(&bytes)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    consuming func finish() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    private mutating func key(_ key: StaticString) {
        if !empty { buffer.writeInteger(UInt8(ascii: ",")) }
        empty = false
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(key)
        buffer.writeStaticString("\":")
    }

    private mutating func writeEscaped(_ value: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                default: buffer.writeString(String(format: "\\u%04x", byte))
                }
                start = index + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
