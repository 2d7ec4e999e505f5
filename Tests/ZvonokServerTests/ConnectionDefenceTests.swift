import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import ZvonokServer

/// Hole 9 of issue 15: 20 connections that sent a request line and one header and then nothing were all still open
/// 70 seconds later. Connections now get a header timeout, an idle timeout and a cap per address; none of them
/// touches an open WebSocket. Short timeouts here; the defaults are 10 s, 60 s and 5,000.
@Suite struct ConnectionDefenceTests {
    static func configure(_ configuration: inout ServerConfiguration) {
        configuration.headerTimeout = .seconds(1)
        configuration.idleTimeout = .seconds(2)
        configuration.maximumConnectionsPerAddress = 12
    }

    @Test func aHalfSentRequestIsClosedWithinTheHeaderTimeout() async throws {
        try await withTestServer(configure: Self.configure) { api in
            let port = try #require(api.client.port)
            let outcomes = try await withThrowingTaskGroup(of: RawConnection.Outcome.self) { group in
                for _ in 0..<5 {
                    group.addTask { try await RawConnection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", port: port, patience: .seconds(6)) }
                }
                group.addTask { try await RawConnection.send("", port: port, patience: .seconds(6)) }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes {
                let closedAfter = try #require(outcome.closedAfter, "a half-sent request is still open after 6 s")
                #expect(closedAfter < .seconds(3))
                #expect(outcome.received.isEmpty)
            }
        }
    }

    /// The header timeout runs from the connection's opening, so a TLS handshake that stalls is closed by it too.
    @Test func aStalledTLSHandshakeIsClosedWithinTheHeaderTimeout() async throws {
        let files = try await SelfSignedCertificate.make()
        defer { try? FileManager.default.removeItem(at: files.folder) }
        try await withTestServer(configure: {
            Self.configure(&$0)
            $0.tlsCertificatePath = files.certificate.path
            $0.tlsKeyPath = files.key.path
        }) { api in
            // The first bytes of a TLS record header (handshake, TLS 1.0), and nothing more.
            let outcome = try await RawConnection.send("\u{16}\u{03}\u{01}", port: try #require(api.client.port), patience: .seconds(6))
            let closedAfter = try #require(outcome.closedAfter, "a stalled handshake is still open after 6 s")
            #expect(closedAfter < .seconds(3))
        }
    }

    @Test func aKeptAliveConnectionIsAnsweredThenClosedWhenIdle() async throws {
        try await withTestServer(configure: Self.configure) { api in
            let port = try #require(api.client.port)
            // Slower than the header timeout in all, but its head arrives at once: answered.
            let outcome = try await RawConnection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port: port, patience: .seconds(8))
            #expect(outcome.received.hasPrefix("HTTP/1.1 200"))
            let closedAfter = try #require(outcome.closedAfter, "an idle kept-alive connection is still open after 8 s")
            #expect(closedAfter > .seconds(1.5) && closedAfter < .seconds(5), "closed after \(closedAfter)")
        }
    }

    @Test func anOpenWebSocketOutlivesBothTimeouts() async throws {
        try await withTestServer(configure: Self.configure) { api in
            let school = try await SchoolFixture.build(api)
            try await withSocket(api, token: school.token("student1")) { socket, _ in
                try await Task.sleep(for: .seconds(4))
                try await socket.send(["type": "ping"])
                _ = try await socket.next("pong")
            }
        }
    }

    @Test func connectionsOverTheCapOfOneAddressAreClosedOnArrival() async throws {
        try await withTestServer(configure: {
            Self.configure(&$0)
            // Four: the test framework's own client keeps one connection open from the start.
            $0.maximumConnectionsPerAddress = 4
            $0.headerTimeout = .seconds(5)
        }) { api in
            let port = try #require(api.client.port)
            try await withThrowingTaskGroup(of: RawConnection.Outcome.self) { group in
                // Three hold their places: half a request each, within the header timeout.
                for _ in 0..<3 {
                    group.addTask { try await RawConnection.send("GET /health HTTP/1.1\r\n", port: port, patience: .seconds(3)) }
                }
                try await Task.sleep(for: .milliseconds(500))
                let fourth = try await RawConnection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port: port, patience: .seconds(2))
                #expect(fourth.received.isEmpty, "the fourth got an answer")
                #expect(try #require(fourth.closedAfter, "the fourth is open") < .seconds(1))
                for try await holder in group { #expect(holder.closedAfter == nil, "one of the first three was closed") }
            }
            // Their places freed (once the server has seen them close), a newcomer is served.
            let deadline = ContinuousClock.now + .seconds(5)
            let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            var later = RawConnection.Outcome(received: "", closedAfter: nil)
            while !later.received.hasPrefix("HTTP/1.1 200"), ContinuousClock.now < deadline {
                later = try await RawConnection.send(request, port: port, patience: .seconds(5))
            }
            #expect(later.received.hasPrefix("HTTP/1.1 200"))
        }
    }
}
