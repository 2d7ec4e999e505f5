import Foundation

/// `application/x-www-form-urlencoded`, as OAuth and OpenID Connect speak it: the token request, the authorization
/// URL's query and the back-channel logout's body.
public enum FormEncoding {
    /// Pairs encoded, in order.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    /// One name or value: everything but the unreserved characters percent-encoded.
    public static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A body's fields, the first of each name; pairs that do not decode are skipped.
    public static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard parts.count == 2, let name = parts[0], let value = parts[1], fields[name] == nil else { continue }
            fields[name] = value
        }
        return fields
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
