public import Foundation

/// The phone platforms' push services, each off until configured (`--fcm-…`, `--apns-…`, `--rustore-…`, `--hms-…`).
/// Base URLs are the services' own; tests point them at a local server.
public struct PhonePushConfiguration: Sendable {
    /// Firebase Cloud Messaging, HTTP v1: a service account's key signs the OAuth token request.
    public struct FCM: Sendable {
        public var projectID: String
        public var clientEmail: String
        /// The service account's RSA private key, PEM.
        public var privateKey: String
        public var tokenURL = "https://oauth2.googleapis.com/token"
        public var baseURL = "https://fcm.googleapis.com"

        public init(projectID: String, clientEmail: String, privateKey: String) {
            self.projectID = projectID
            self.clientEmail = clientEmail
            self.privateKey = privateKey
        }

        /// Reads a service account's JSON key file as Google issues it.
        public init(serviceAccountJSON data: Data) throws {
            struct Account: Decodable {
                let projectID: String
                let clientEmail: String
                let privateKey: String
                let tokenURI: String?

                enum CodingKeys: String, CodingKey {
                    case projectID = "project_id"
                    case clientEmail = "client_email"
                    case privateKey = "private_key"
                    case tokenURI = "token_uri"
                }
            }
            let account = try JSONDecoder().decode(Account.self, from: data)
            self.init(projectID: account.projectID, clientEmail: account.clientEmail, privateKey: account.privateKey)
            if let tokenURI = account.tokenURI { tokenURL = tokenURI }
        }
    }

    /// Apple Push Notification service, token-based: a `.p8` key signs an ES256 provider token.
    public struct APNs: Sendable {
        public var teamID: String
        public var keyID: String
        /// The `.p8` key, PEM.
        public var privateKey: String
        /// The app's bundle id (`apns-topic`).
        public var topic: String
        public var baseURL = "https://api.push.apple.com"

        public init(teamID: String, keyID: String, privateKey: String, topic: String) {
            self.teamID = teamID
            self.keyID = keyID
            self.privateKey = privateKey
            self.topic = topic
        }
    }

    /// RuStore push notifications: a project id and its service token.
    public struct RuStore: Sendable {
        public var projectID: String
        public var serviceToken: String
        public var baseURL = "https://vkpns.rustore.ru"

        public init(projectID: String, serviceToken: String) {
            self.projectID = projectID
            self.serviceToken = serviceToken
        }
    }

    /// Huawei Push Kit: an app's OAuth client credentials.
    public struct HMS: Sendable {
        public var appID: String
        public var clientSecret: String
        public var tokenURL = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
        public var baseURL = "https://push-api.cloud.huawei.com"

        public init(appID: String, clientSecret: String) {
            self.appID = appID
            self.clientSecret = clientSecret
        }
    }

    public var fcm: FCM?
    public var apns: APNs?
    public var rustore: RuStore?
    public var hms: HMS?

    public init() {}
}
