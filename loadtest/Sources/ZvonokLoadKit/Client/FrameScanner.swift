import NIOCore

/// Reads the few fields the load generator needs straight from a server frame's bytes, without a JSON parser: the
/// hot frames (`msg`, `ack`) arrive 100,000+ times a second, and decoding each into a dictionary would make the
/// generator, not the server, the bottleneck.
///
/// It looks for `"key":` anywhere in the object, so it relies on no free text containing such a pattern: true for
/// the texts the load generator sends itself (digits, letters and spaces). Rare frames (`ready`, `error`) are decoded
/// with a real JSON parser.
struct FrameScanner {
    let bytes: ByteBufferView

    init(_ buffer: ByteBuffer) {
        bytes = buffer.readableBytesView
    }

    /// The index just past `"key":` and any spaces, or nil.
    private func valueStart(_ key: StaticString) -> ByteBufferView.Index? {
        let pattern = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let count = pattern.count
        var index = bytes.startIndex
        let end = bytes.endIndex
        // `"` key `"` `:`
        while index + count + 2 < end {
            if bytes[index] == UInt8(ascii: "\""), bytes[index + count + 1] == UInt8(ascii: "\"") {
                var matches = true
                for offset in 0..<count where bytes[index + 1 + offset] != pattern[offset] {
                    matches = false
                    break
                }
                if matches {
                    var cursor = index + count + 2
                    while cursor < end, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                    if cursor < end, bytes[cursor] == UInt8(ascii: ":") {
                        cursor += 1
                        while cursor < end, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                        return cursor
                    }
                }
            }
            index += 1
        }
        return nil
    }

    /// An unsigned integer value.
    func integer(_ key: StaticString) -> Int? {
        guard var index = valueStart(key) else { return nil }
        var value = 0
        var digits = 0
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// A string value without escapes (ids, types, codes); nil when absent or not a string.
    func string(_ key: StaticString) -> String? {
        guard let start = valueStart(key), start < bytes.endIndex, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var index = start + 1
        while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") { index += 1 }
        guard index < bytes.endIndex else { return nil }
        return String(decoding: bytes[(start + 1)..<index], as: UTF8.self)
    }

    /// The number that follows `prefix` at the start of a string value: the load generator's texts begin with the
    /// intended send time, `"text":"t123456789 …"`.
    /// The node number written after a text's time stamp (`"t<time>n<node> …"`), if there is one.
    func nodeMark(_ key: StaticString) -> Int? {
        guard let start = valueStart(key), start + 1 < bytes.endIndex, bytes[start] == UInt8(ascii: "\""), bytes[start + 1] == UInt8(ascii: "t")
        else {
            return nil
        }
        var index = start + 2
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "n") else { return nil }
        index += 1
        var node = 0, digits = 0
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            node = node * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        return digits > 0 ? node : nil
    }

    func stampedNumber(_ key: StaticString, prefix: UInt8) -> UInt64? {
        guard let start = valueStart(key), start + 1 < bytes.endIndex, bytes[start] == UInt8(ascii: "\""), bytes[start + 1] == prefix else {
            return nil
        }
        var index = start + 2
        var value: UInt64 = 0
        var digits = 0
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }
}
