import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing
import ZvonokServer
import ZvonokStorage

@Suite struct OperationsEndpointTests {
    @Test func healthIsOKWithTheDatabaseUp() async throws {
        try await withTestServer { api in
            // The cluster listener starts beside the server: "degraded" until it listens.
            var body = Health()
            for _ in 0..<100 where body.listener != "up" {
                body = try await api.client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(Health.self, from: response.body)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(body.status == "ok")
            #expect(body.database == "up")
            #expect(body.listener == "up")
            // A single-host URL: that host is the one served, and there is nothing to fail over to.
            #expect(body.primary?.isEmpty == false)
            #expect(body.failovers == 0)
            #expect(body.node.hasPrefix("zvonok-"))
        }
    }

    @Test func healthIs503WhenTheDatabaseCannotBeReached() async throws {
        // Nothing listens on port 1; the server must still start and answer.
        let app = try makeTestApplication(url: try DatabaseURL("postgres://nobody@127.0.0.1:1/none")) { $0.migrateAtStart = false }
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(Health.self, from: response.body)
                #expect(body.database == "down")
            }
        }
    }

    @Test func metricsServePrometheusTextWithRequestAndDatabaseFigures() async throws {
        try await withTestServer { api in
            let client = api.client
            try await client.execute(uri: "/health", method: .get)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                #expect(text.contains("hb_requests{"))
                #expect(text.contains("zvonok_db_query_duration_seconds"))
                #expect(text.contains("zvonok_websocket_connections"))
                #expect(text.contains("zvonok_messages_committed"))
            }
        }
    }

    @Test func unknownPathsGetTheContractErrorBody() async throws {
        try await withTestServer { api in
            let client = api.client
            try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONDecoder().decode([String: [String: String]].self, from: response.body)
                #expect(body["error"]?["code"] == "not_found")
                #expect(body["error"]?["message"]?.isEmpty == false)
            }
        }
    }

    @Test func aMethodAPathIsNotServedUnderIs405WithAllow() async throws {
        try await withTestServer { api in
            for (method, path, allowed) in [
                (HTTPRequest.Method.trace, "/v1/me", "GET"), (.delete, "/v1/regions", "GET, POST"), (.put, "/v1/people/p1", "DELETE, GET, PATCH"),
                (.post, "/health", "GET"), (.patch, "/v1/ws", "GET"),
            ] {
                try await api.client.execute(uri: path, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allowed, "\(method) \(path)")
                    let body = try JSONDecoder().decode([String: [String: String]].self, from: response.body)
                    #expect(body["error"]?["code"] == "method_not_allowed")
                }
            }
            // A path served under no method stays 404, and a served method is not touched.
            #expect(try await api.call(.trace, "/v1/nothing-here", token: nil).status == .notFound)
            #expect(try await api.get("/health", token: nil).status == .ok)
        }
    }
}

/// What `/health` answers (docs/openapi.yaml, `Health`).
private struct Health: Decodable {
    var status = "", database = "", listener = "", node = ""
    var primary: String?
    var failovers = 0
}
