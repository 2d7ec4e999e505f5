import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a plain socket with a small receive buffer, for what library clients do not do: send a
/// flood of WebSocket pings without reading a byte, then read what the server wrote and report how it closed. Runs
/// on a thread of its own, since its socket blocks.
struct PingingClient {
    let port: Int
    let token: String

    /// Upgrades, sends `pings` pings with 125-byte payloads unread, then reads until a close frame and returns its
    /// code; nil when the connection ended or went quiet for `quiet` without one.
    func flood(pings: Int, quiet: Int = 30) async throws -> UInt16? {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run(pings: pings, quiet: quiet) }) }.start()
        }
    }

    private func run(pings: Int, quiet: Int) throws -> UInt16? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        // A fixed small receive buffer (no autotuning): what the server writes piles up in its own socket buffer,
        // which is bounded, and then in its queue.
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: quiet, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw TestFailure("connect failed") }
        try write(
            fd,
            Array(
                "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer \(token)\r\n\r\n"
                    .utf8
            ))
        var received = try readUpgrade(fd)
        // A masked ping (the key 0 leaves the payload as it is), a thousand to a write.
        let ping: [UInt8] = [0x89, 0x80 | 125, 0, 0, 0, 0] + Array(repeating: UInt8(ascii: "p"), count: 125)
        for sent in stride(from: 0, to: pings, by: 1000) {
            try write(fd, Array([[UInt8]](repeating: ping, count: min(1000, pings - sent)).joined()))
        }
        while true {
            if let code = Self.closeCode(in: &received) { return code }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            received += chunk[..<count]
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send failed") }
            offset += written
        }
    }

    /// Reads the upgrade's answer; returns what came after it.
    private func readUpgrade(_ fd: Int32) throws -> [UInt8] {
        var received: [UInt8] = []
        let end = Array("\r\n\r\n".utf8)
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { throw TestFailure("no upgrade answer") }
            received += chunk[..<count]
            if let range = received.firstRange(of: end) {
                guard received.starts(with: Array("HTTP/1.1 101".utf8)) else { throw TestFailure("upgrade refused") }
                return Array(received[range.upperBound...])
            }
        }
    }

    /// Drops the whole frames at the front of `bytes` (the server's are unmasked) until a close frame, whose code it
    /// returns; nil when more bytes are needed.
    private static func closeCode(in bytes: inout [UInt8]) -> UInt16? {
        while bytes.count >= 2 {
            var length = Int(bytes[1] & 0x7F), header = 2
            if length == 126 {
                guard bytes.count >= 4 else { return nil }
                (length, header) = (Int(bytes[2]) << 8 | Int(bytes[3]), 4)
            } else if length == 127 {
                guard bytes.count >= 10 else { return nil }
                (length, header) = (bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }, 10)
            }
            guard bytes.count >= header + length else { return nil }
            if bytes[0] & 0x0F == 0x8 { return length >= 2 ? UInt16(bytes[header]) << 8 | UInt16(bytes[header + 1]) : 1005 }
            bytes.removeFirst(header + length)
        }
        return nil
    }
}
