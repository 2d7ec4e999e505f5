/// A connection as the fan-out core sees it: somewhere to put encoded frames, without waiting.
///
/// The server implements it over a WebSocket channel, with `Payload` a NIO `ByteBuffer`, so one encoded frame is
/// shared by every recipient; the core never learns what a socket is. Implementations are classes, so the core can
/// tell sessions apart by identity.
public protocol FrameSink: AnyObject, Sendable {
    associatedtype Payload: Sendable

    /// Queues a frame for this connection and returns at once. A sink that is over its bound closes itself
    /// (4008) rather than slow the sender down.
    func enqueue(_ payload: Payload)
}
