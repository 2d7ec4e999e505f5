import Testing

@testable import ZvonokCore

@Suite struct SecretTests {
    @Test func tokensAreLongRandomAndURLSafe() {
        let tokens = (0..<100).map { _ in Secret.token() }
        #expect(Set(tokens).count == 100)
        for token in tokens {
            #expect(token.hasPrefix("zv_"))
            #expect(token.count == 3 + 43)
            #expect(token.dropFirst(3).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
    }

    @Test func base64URLMatchesKnownVectors() {
        #expect(Secret.base64URL(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Secret.base64URL(Array("fooba".utf8)) == "Zm9vYmE")
        #expect(Secret.base64URL([0xFB, 0xFF]) == "-_8")
    }
}
