import Crypto
import Foundation
import ZvonokStorage

/// The server's VAPID key, read from the database on first use (and made there by the first node that needs it), so
/// that every node signs with the same key and browsers' subscriptions stay valid across restarts. Concurrent first
/// uses share one read; a read that fails is tried again by the next use.
actor VAPIDKeyring {
    private let store: PushRegistrationStore
    private let contact: String
    private var loading: Task<VAPIDSigner, any Error>?

    init(store: PushRegistrationStore, contact: String) {
        self.store = store
        self.contact = contact
    }

    func signer() async throws -> VAPIDSigner {
        let load =
            loading
            ?? Task { [store, contact] in
                let stored = try await store.vapidPrivateKey(orStore: P256.Signing.PrivateKey().rawRepresentation)
                return VAPIDSigner(key: try P256.Signing.PrivateKey(rawRepresentation: stored), contact: contact)
            }
        loading = load
        do {
            return try await load.value
        } catch {
            if loading == load { loading = nil }
            throw error
        }
    }
}
