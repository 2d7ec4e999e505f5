import ArgumentParser
import Foundation
import ZvonokServer

/// `serve`'s phone platform options: each platform is on once its credentials are given.
struct PhonePushOptions: ParsableArguments {
    @Option(help: "Firebase service account key (JSON) for FCM HTTP v1. [env: ZVONOK_FCM_SERVICE_ACCOUNT]")
    var fcmServiceAccount: String?

    @Option(help: "APNs authentication key (.p8) for token-based APNs. [env: ZVONOK_APNS_KEY]")
    var apnsKey: String?

    @Option(help: "The APNs key's id. [env: ZVONOK_APNS_KEY_ID]")
    var apnsKeyId: String?

    @Option(help: "The Apple developer team id. [env: ZVONOK_APNS_TEAM_ID]")
    var apnsTeamId: String?

    @Option(help: "The iOS app's bundle id (apns-topic). [env: ZVONOK_APNS_TOPIC]")
    var apnsTopic: String?

    @Flag(help: "Use APNs' development server (api.sandbox.push.apple.com).")
    var apnsSandbox = false

    @Option(help: "RuStore push project id; its service token comes from ZVONOK_RUSTORE_TOKEN. [env: ZVONOK_RUSTORE_PROJECT_ID]")
    var rustoreProjectId: String?

    @Option(help: "Huawei Push Kit app id; its client secret comes from ZVONOK_HMS_CLIENT_SECRET. [env: ZVONOK_HMS_APP_ID]")
    var hmsAppId: String?

    func apply(to phones: inout PhonePushConfiguration, environment: [String: String]) throws {
        if let path = fcmServiceAccount ?? environment["ZVONOK_FCM_SERVICE_ACCOUNT"] {
            do { phones.fcm = try .init(serviceAccountJSON: try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw ValidationError("--fcm-service-account: \(path) is not a service account key: \(error)")
            }
        }
        if let path = apnsKey ?? environment["ZVONOK_APNS_KEY"] {
            guard let keyID = apnsKeyId ?? environment["ZVONOK_APNS_KEY_ID"], let teamID = apnsTeamId ?? environment["ZVONOK_APNS_TEAM_ID"],
                let topic = apnsTopic ?? environment["ZVONOK_APNS_TOPIC"]
            else { throw ValidationError("--apns-key needs --apns-key-id, --apns-team-id and --apns-topic") }
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            phones.apns = .init(teamID: teamID, keyID: keyID, privateKey: pem, topic: topic)
            if apnsSandbox { phones.apns?.baseURL = "https://api.sandbox.push.apple.com" }
        }
        if let project = rustoreProjectId ?? environment["ZVONOK_RUSTORE_PROJECT_ID"] {
            guard let token = environment["ZVONOK_RUSTORE_TOKEN"], !token.isEmpty else {
                throw ValidationError("--rustore-project-id needs ZVONOK_RUSTORE_TOKEN")
            }
            phones.rustore = .init(projectID: project, serviceToken: token)
        }
        if let app = hmsAppId ?? environment["ZVONOK_HMS_APP_ID"] {
            guard let secret = environment["ZVONOK_HMS_CLIENT_SECRET"], !secret.isEmpty else {
                throw ValidationError("--hms-app-id needs ZVONOK_HMS_CLIENT_SECRET")
            }
            phones.hms = .init(appID: app, clientSecret: secret)
        }
    }
}
