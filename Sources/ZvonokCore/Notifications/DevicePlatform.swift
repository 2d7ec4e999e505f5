/// The phone push services a device can be registered with (`POST /v1/me/devices`).
public enum DevicePlatform: String, Sendable, CaseIterable {
    /// Firebase Cloud Messaging, HTTP v1 API.
    case fcm
    /// Apple Push Notification service, token-based over HTTP/2.
    case apns
    /// RuStore push notifications.
    case rustore
    /// Huawei Mobile Services Push Kit.
    case hms
}
