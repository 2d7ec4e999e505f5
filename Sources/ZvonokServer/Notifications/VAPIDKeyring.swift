import Crypto
import Foundation
import ZvonokStorage

/// The server's VAPID key, read from the database on first use (and made there by the first node that needs it), so
/// that every node signs with the same key and browsers' subscriptions stay valid across restarts.
actor VAPIDKeyring {
    private let store: PushRegistrationStore
    private let contact: String
    private var loaded: VAPIDSigner?

    init(store: PushRegistrationStore, contact: String) {
        self.store = store
        self.contact = contact
    }

    func signer() async throws -> VAPIDSigner {
        if let loaded { return loaded }
        let stored = try await store.vapidPrivateKey(orStore: P256.Signing.PrivateKey().rawRepresentation)
        let signer = VAPIDSigner(key: try P256.Signing.PrivateKey(rawRepresentation: stored), contact: contact)
        loaded = signer
        return signer
    }
}
