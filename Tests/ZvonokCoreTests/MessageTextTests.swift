import Testing

@testable import ZvonokCore

@Suite struct MessageTextTests {
    @Test func onlyTextWithALetterOrDigitCounts() {
        for counted in ["Привет", "ok", "5", "№1", "Урок в 9:00 👍", "٣"] { #expect(MessageText.isCounted(counted), "\(counted)") }
        for notCounted in ["👍", "🔥🔥🔥", "...", "!?", " ", "❤️", "+"] { #expect(!MessageText.isCounted(notCounted), "\(notCounted)") }
    }

    @Test func textIsOneTo4096Characters() {
        #expect(throws: ZvonokError.self) { try MessageText.validate("") }
        #expect(throws: ZvonokError.self) { try MessageText.validate(String(repeating: "я", count: 4097)) }
        #expect((try? MessageText.validate(String(repeating: "я", count: 4096))) != nil)
    }
}
