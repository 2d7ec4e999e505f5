import NIOWebSocket

/// The close codes the hub itself chooses, each with the reason it writes beside it (docs/protocol.md has the same
/// table). Codes from the WebSocket layer — 1007 for invalid UTF-8, 1009 for a frame over 64 KiB — are answered
/// where frames are read (`WebSocketMessages`).
enum HubCloseCode {
    /// 1001: the server is shutting down; reconnect (to another node) and `sync`.
    static let goingAway = WebSocketErrorCode.goingAway
    /// 4001: the session ended — signed out, revoked by an admin, expired, or the person removed; sign in again.
    static let sessionEnded = WebSocketErrorCode.unknown(4001)
    /// 4008: the client did not take its frames fast enough; reconnect and `sync`.
    static let tooSlow = WebSocketErrorCode.unknown(4008)
    /// 4029: the person has as many connections open on this node as allowed.
    static let tooManyConnections = WebSocketErrorCode.unknown(4029)

    /// Whether what is queued still goes out before the close frame: on shutdown it does, since the client is told
    /// to come back; a slow reader's or a revoked session's queue is dropped.
    static func writesQueue(before code: WebSocketErrorCode) -> Bool {
        code == goingAway
    }

    /// The reason written in the close frame, for the codes the hub chooses.
    static func reason(for code: WebSocketErrorCode) -> String? {
        switch code {
        case goingAway: "server shutting down; reconnect and sync"
        case sessionEnded: "session ended; sign in again"
        case tooSlow: "too slow; reconnect and sync"
        case tooManyConnections: "too many open connections"
        default: nil
        }
    }
}
