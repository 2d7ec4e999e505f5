import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import ZvonokCore
import ZvonokServer
import ZvonokStorage

/// Files in chats (issue 17) over real HTTP, WebSockets and PostgreSQL: upload, send, delivery with metadata,
/// download with ranges, who may fetch what, refused types, limits, metadata stripped from photos, previews.
@Suite struct FileTests {
    @Test func aPhotoLosesItsLocationKeepsItsOrientationAndGetsAPreview() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let photo = try await TestImages.jpegWithLocation()
            let uploaded = try await api.upload(
                photo, name: "Домашка стр. 12.jpg", to: chat, token: school.token("student1"), contentType: "image/png")
            #expect(uploaded.status == .created)
            #expect(uploaded.string("type") == "image/jpeg")
            // 64×48 turned a quarter by its orientation: shown 48 wide, 64 high.
            #expect(uploaded.json["width"] as? Int == 48 && uploaded.json["height"] as? Int == 64)
            #expect(uploaded.json["preview"] as? Bool == true)
            let id = try #require(uploaded.string("id"))

            let download = try await api.raw(.get, "/v1/files/\(id)", token: school.token("student1"))
            #expect(download.status == .ok)
            let text = String(decoding: download.bytes, as: UTF8.self)
            for leak in ["GPS", "Moscow", "xmpmeta"] { #expect(!text.contains(leak), "\(leak) leaked") }
            #expect(download.sha256 == uploaded.string("sha256"))
            #expect(try await TestImages.size(of: download.bytes) == (64, 48))  // still a JPEG libvips decodes
            #expect(download.headers[.contentType] == "image/jpeg")
            #expect(download.headers[.xContentTypeOptions] == "nosniff")
            #expect(download.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            #expect(download.headers[.cacheControl]?.hasPrefix("private") == true)
            #expect(download.headers[.eTag] == "\"\(uploaded.string("sha256")!)\"")
            #expect(
                download.headers[.contentDisposition]
                    == "inline; filename=\"_______ ___. 12.jpg\"; filename*=UTF-8''%D0%94%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0%20%D1%81%D1%82%D1%80.%2012.jpg"
            )

            let preview = try await api.raw(.get, "/v1/files/\(id)/preview", token: school.token("student1"))
            #expect(preview.status == .ok && preview.headers[.contentType] == "image/jpeg")
            let size = try await TestImages.size(of: preview.bytes)
            #expect(max(size.width, size.height) <= 320 && size.height > size.width)
        }
    }

    @Test func aMessageCarriesItsFilesLiveInHistoryAndBySync() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let pdf = Array("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)
            let sheet = try await api.upload(pdf, name: "Расписание.pdf", to: chat, token: school.token("teacher5"))
            let png = try await api.upload(try await TestImages.make("png"), name: "схема.png", to: chat, token: school.token("teacher5"))
            let ids = [try #require(sheet.string("id")), try #require(png.string("id"))]
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                    try await teacher.send(["type": "send", "chat": chat, "cid": "f1", "files": ids])
                    #expect(try await teacher.next("ack").seq == 1)
                    // The same send again is the same message; the files cannot go into another one.
                    try await teacher.send(["type": "send", "chat": chat, "cid": "f1", "files": ids])
                    #expect(try await teacher.next("ack").seq == 1)
                    try await teacher.send(["type": "send", "chat": chat, "cid": "f2", "text": "ещё раз", "files": [ids[0]]])
                    #expect(try await teacher.next("error")["code"] as? String == "invalid_argument")
                }
                let live = try await student.next("msg")
                let files = try #require(live["files"] as? [[String: Any]])
                #expect(files.map { $0["id"] as? String } == ids)
                #expect(files.map { $0["type"] as? String } == ["application/pdf", "image/png"])
                #expect(files[0]["name"] as? String == "Расписание.pdf" && files[0]["size"] as? Int == pdf.count)
                #expect(files[1]["width"] as? Int == 64 && files[1]["preview"] as? Bool == true)
                #expect(live["text"] as? String == "")
                try await student.send(["type": "sync", "chat": chat, "after": 0])
                let synced = try await student.next("msg")
                #expect((synced["files"] as? [[String: Any]])?.count == 2)
            }
            let history = try await api.get("/v1/chats/\(chat)/messages", token: school.token("guardian1"))
            #expect(history.status == .notFound)  // the guardian is in the parents' chat, not this one
            let items = try await api.get("/v1/chats/\(chat)/messages", token: school.token("student2")).items
            #expect((items.first?["files"] as? [[String: Any]])?.map { $0["id"] as? String } == ids)
            // A message of files only counts for the rating like one with text (docs/rating.md).
            let counted = try await withRunningDatabase(api.databaseURL) { database in
                try await database.query("SELECT counted FROM messages WHERE seq = 1").collect().first?.decode(Bool.self)
            }
            #expect(counted == true)
            // And it keeps counting when its text is edited to a reaction.
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                try await teacher.send(["type": "edit", "chat": chat, "seq": 1, "text": "👍"])
                _ = try await teacher.next("edited")
            }
            let stillCounted = try await withRunningDatabase(api.databaseURL) { database in
                try await database.query("SELECT counted FROM messages WHERE seq = 1").collect().first?.decode(Bool.self)
            }
            #expect(stillCounted == true)
        }
    }

    @Test func onlyMembersOfTheChatFetchAFileAndOnlyItsUploaderBeforeItIsSent() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let uploaded = try await api.upload(Array("Контрольная в пятницу\n".utf8), name: "заметка.txt", to: chat, token: school.token("student1"))
            #expect(uploaded.status == .created && uploaded.string("type") == "text/plain")
            let id = try #require(uploaded.string("id"))
            // Before it is sent, only the uploader sees it.
            #expect(try await api.raw(.get, "/v1/files/\(id)", token: school.token("student1")).status == .ok)
            #expect(try await api.raw(.get, "/v1/files/\(id)", token: school.token("student2")).status == .notFound)
            try await withSocket(api, token: school.token("student1")) { student, _ in
                // Another member cannot attach it; nor can its uploader in another chat.
                try await student.send(["type": "send", "chat": chat, "cid": "s1", "files": [id]])
                #expect(try await student.next("ack").seq == 1)
            }
            let file = try await api.raw(.get, "/v1/files/\(id)", token: school.token("student2"))
            #expect(file.status == .ok && file.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(file.headers[.contentType] == "text/plain; charset=utf-8")
            for outsider in ["student3", "teacher6", "guardian1", "ministry"] {
                let answer = try await api.raw(.get, "/v1/files/\(id)", token: outsider == "ministry" ? api.ministryToken : school.token(outsider))
                #expect(answer.status == .notFound && answer.errorCode == "not_found", "\(outsider)")
            }
            // Guessed ids answer as an id that does not exist.
            for guess in ["f999999", "f0", "x1", "f-1"] {
                #expect(try await api.raw(.get, "/v1/files/\(guess)", token: school.token("student2")).status == .notFound)
            }
            // Deleted: gone for everyone.
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                try await teacher.send(["type": "delete", "chat": chat, "seq": 1])
                _ = try await teacher.next("deleted")
            }
            #expect(try await api.raw(.get, "/v1/files/\(id)", token: school.token("student2")).status == .notFound)
        }
    }

    @Test func filesAreAttachedByTheirUploaderInTheirChatWithinTheLimit() async throws {
        try await withTestServer(configure: { $0.files.limits.filesPerMessage = 2 }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let parents = try #require(
                try await api.get("/v1/me/chats", token: school.token("teacher5")).items.first { $0["kind"] as? String == "class_parents" }?["id"]
                    as? String)
            var uploaded: [String] = []
            for index in 0..<3 {
                let file = try await api.upload(Array("лист \(index)\n".utf8), name: "\(index).txt", to: chat, token: school.token("teacher5"))
                uploaded.append(try #require(file.string("id")))
            }
            let ids = uploaded
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                for (cid, target, files) in [("many", chat, ids), ("elsewhere", parents, [ids[0]]), ("bogus", chat, ["k1"])] {
                    try await teacher.send(["type": "send", "chat": target, "cid": cid, "files": files])
                    let refused = try await teacher.next("error")
                    #expect(refused["code"] as? String == "invalid_argument" && refused["ref"] as? String == cid, "\(cid)")
                }
            }
            try await withSocket(api, token: school.token("student1")) { student, _ in
                try await student.send(["type": "send", "chat": chat, "cid": "theirs", "files": [ids[0]]])
                #expect(try await student.next("error")["code"] as? String == "invalid_argument")
                try await student.send(["type": "send", "chat": chat, "cid": "empty", "text": ""])
                #expect(try await student.next("error")["code"] as? String == "invalid_argument")
            }
            try await withSocket(api, token: school.token("teacher5")) { teacher, _ in
                try await teacher.send(["type": "send", "chat": chat, "cid": "two", "text": "листы", "files": Array(ids.prefix(2))])
                #expect(try await teacher.next("ack").seq == 1)
            }
        }
    }

    /// Sends read together (`AttachmentReads` gathers them into one `FileStore.attachable`) each get their own answer:
    /// their files in their own order, or the refusal of their own files only.
    @Test func sendsReadTogetherGetTheirOwnFilesOrTheirOwnRefusal() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let chatID = try #require(PublicID.decode(.chat, chat))
            func upload(_ name: String, by person: String) async throws -> Int64 {
                let file = try await api.upload(Array("\(name)\n".utf8), name: "\(name).txt", to: chat, token: school.token(person))
                return try #require(file.string("id").flatMap { PublicID.decode(.file, $0) })
            }
            let (first, second) = (try await upload("первый", by: "teacher5"), try await upload("второй", by: "teacher5"))
            let pupils = try await upload("ученика", by: "student1")
            let teacher = try #require(PublicID.decode(.person, school.id("teacher5")))
            let student1 = try #require(PublicID.decode(.person, school.id("student1")))
            let student2 = try #require(PublicID.decode(.person, school.id("student2")))
            let results = try await withRunningDatabase(api.databaseURL) { database in
                try await FileStore(database: database).attachable([
                    .init(ids: [second, first], chat: chatID, sender: teacher, cid: "a"),
                    .init(ids: [pupils], chat: chatID, sender: student2, cid: "b"),
                    .init(ids: [pupils], chat: chatID, sender: student1, cid: "c"),
                    .init(ids: [first, pupils], chat: chatID, sender: teacher, cid: "d"),
                ])
            }
            #expect(try results[0].get().map(\.id) == [second, first], "in the sender's order")
            #expect(throws: ZvonokError.self) { try results[1].get() }
            #expect(try results[2].get().map(\.name) == ["ученика.txt"])
            #expect(throws: ZvonokError.self, "one file not the sender's refuses the send") { try results[3].get() }
        }
    }

    @Test func rangesResumeDownloadsAndUnchangedFilesAreNotSentAgain() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let bytes = Array("%PDF-1.4\n".utf8) + (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let uploaded = try await api.upload(bytes, name: "учебник.pdf", to: chat, token: school.token("teacher5"))
            let id = try #require(uploaded.string("id"))
            let token = school.token("teacher5")
            let whole = try await api.raw(.get, "/v1/files/\(id)", token: token)
            #expect(whole.bytes == bytes && whole.headers[.acceptRanges] == "bytes")
            let cases: [(String, Range<Int>)] = [
                ("bytes=0-9", 0..<10), ("bytes=1048570-1048590", 1_048_570..<1_048_591), ("bytes=-5", bytes.count - 5..<bytes.count),
                ("bytes=2999990-", 2_999_990..<bytes.count), ("bytes=3000000-99999999", 3_000_000..<bytes.count),
            ]
            for (range, expected) in cases {
                let part = try await api.raw(.get, "/v1/files/\(id)", token: token, headers: [.range: range])
                #expect(part.status == .partialContent, "\(range)")
                #expect(part.bytes == Array(bytes[expected]), "\(range)")
                #expect(part.headers[.contentRange] == "bytes \(expected.lowerBound)-\(expected.upperBound - 1)/\(bytes.count)")
            }
            let outside = try await api.raw(.get, "/v1/files/\(id)", token: token, headers: [.range: "bytes=\(bytes.count)-"])
            #expect(outside.status == .rangeNotSatisfiable && outside.errorCode == "range_not_satisfiable")
            #expect(outside.headers[.contentRange] == "bytes */\(bytes.count)")
            // A changed file (another ETag) is sent whole; an unchanged one not at all.
            let stale = try await api.raw(.get, "/v1/files/\(id)", token: token, headers: [.range: "bytes=0-9", .ifRange: "\"old\""])
            #expect(stale.status == .ok && stale.bytes.count == bytes.count)
            let etag = try #require(whole.headers[.eTag])
            let fresh = try await api.raw(.get, "/v1/files/\(id)", token: token, headers: [.ifNoneMatch: etag])
            #expect(fresh.status == .notModified && fresh.bytes.isEmpty)
        }
    }

    @Test func everyRefusedTypeIs415() async throws {
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let refused: [(String, String, [UInt8])] = [
                ("photo.png", "image/png", Array("<!DOCTYPE html><html><body><script>fetch('/v1/me')</script>".utf8)),
                ("drawing.svg", "image/svg+xml", Array("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".utf8)),
                ("homework.html", "text/html", Array("<html><body>hi</body></html>".utf8)),
                ("game.exe", "application/octet-stream", Array("MZ".utf8) + Array(repeating: 0x90, count: 300)),
                ("tool", "application/octet-stream", [0x7F] + Array("ELF".utf8) + Array(repeating: 0, count: 100)),
                ("install.sh", "text/plain", Array("#!/bin/sh\necho hi\n".utf8)),
                ("script.js", "text/plain", Array("alert(document.cookie)\n".utf8)),
                ("archive.zip", "application/zip", [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Array("evil.exe".utf8)),
            ]
            for (name, type, bytes) in refused {
                let answer = try await api.upload(bytes, name: name, to: chat, token: school.token("student1"), contentType: type)
                #expect(answer.status == .unsupportedMediaType && answer.errorCode == "unsupported_media_type", "\(name)")
            }
            // Nothing was kept of them.
            let kept = try await withRunningDatabase(api.databaseURL) { database in
                try await database.query("SELECT count(*)::bigint FROM files").collect().first?.decode(Int64.self)
            }
            #expect(kept == 0)
        }
    }

    @Test func limitsAnswerBeforeTheBodyIsRead() async throws {
        try await withTestServer(configure: {
            $0.files.limits.maximumSize = 1 << 20; $0.files.limits.dailyQuota = 3 << 20
        }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let token = school.token("teacher5")
            // 413 for a file over the limit: answered from Content-Length, while the client is still sending.
            let request = "POST /v1/chats/\(chat)/files?name=big.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            let outcome = try await RawConnection.send(
                request + "Content-Length: \(2 << 20)\r\n\r\n%PDF-1.4\n", port: try #require(api.client.port), patience: .seconds(5))
            #expect(outcome.received.hasPrefix("HTTP/1.1 413"))
            #expect(outcome.received.contains("payload_too_large"))
            // 429 once a day's quota would be passed.
            let megabyte = Array("%PDF-1.4\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: (1 << 20) - 9)
            for index in 0..<3 {
                var file = megabyte
                file[20] = UInt8(index)  // three different files
                #expect(try await api.upload(file, name: "\(index).pdf", to: chat, token: token).status == .created)
            }
            let over = try await api.upload(Array(megabyte.prefix(1000)), name: "more.pdf", to: chat, token: token)
            #expect(over.status == .tooManyRequests && over.errorCode == "rate_limited")
            // Bad names and empty files are refused with a reason.
            #expect(try await api.upload(Array("x\n".utf8), name: "", to: chat, token: token).status == .badRequest)
            #expect(try await api.upload(Array("x\n".utf8), name: "../../etc/passwd", to: chat, token: token).status == .badRequest)
            #expect(try await api.upload([], name: "empty.txt", to: chat, token: school.token("student1")).status == .badRequest)
            // And only members who may post upload: a student in the school channel may not.
            let channel = try #require(
                try await api.get("/v1/me/chats", token: school.token("student1")).items.first { $0["kind"] as? String == "school" }?["id"] as? String
            )
            #expect(try await api.upload(Array("x\n".utf8), name: "a.txt", to: channel, token: school.token("student1")).status == .forbidden)
            #expect(try await api.upload(Array("x\n".utf8), name: "a.txt", to: chat, token: school.token("student3")).status == .notFound)
        }
    }

    @Test func withoutLibvipsFilesHaveNoPreviewAndHEICIsRefused() async throws {
        let heic = try await TestImages.make("heic")
        let jpeg = try await TestImages.make("jpg")
        try await withTestServer(configure: { $0.files.vipsDirectories = ["/nonexistent"] }) { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let photo = try await api.upload(jpeg, name: "a.jpg", to: chat, token: school.token("student1"))
            #expect(photo.status == .created && photo.json["preview"] as? Bool == false)
            let id = try #require(photo.string("id"))
            #expect(try await api.raw(.get, "/v1/files/\(id)/preview", token: school.token("student1")).status == .notFound)
            #expect(try await api.upload(heic, name: "IMG_0001.HEIC", to: chat, token: school.token("student1")).status == .unsupportedMediaType)
        }
        try await withTestServer { api in
            let school = try await SchoolFixture.build(api)
            let chat = try await WebSocketOrderTests.classChat(api, school)
            let photo = try await api.upload(heic, name: "IMG_0001.HEIC", to: chat, token: school.token("student1"))
            #expect(photo.status == .created && photo.string("type") == "image/jpeg" && photo.json["preview"] as? Bool == true)
        }
    }
}
