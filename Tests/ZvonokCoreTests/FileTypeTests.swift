import Testing

@testable import ZvonokCore

/// The type of an upload is what its bytes are, never its name or declared type (issue 17).
@Suite struct FileTypeTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func acceptedTypesAreToldByTheirMagicNumbers() {
        let ftyp = { (brand: String) in [0, 0, 0, 0x18] + Self.bytes("ftyp" + brand) + [0, 0, 0, 0] }
        let cases: [([UInt8], String, FileType)] = [
            ([0xFF, 0xD8, 0xFF, 0xE0], "photo.png", .jpeg),
            ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "x", .png),
            (Self.bytes("GIF89a") + [1, 0, 1, 0], "a.gif", .gif),
            (Self.bytes("RIFF") + [0, 0, 0, 0] + Self.bytes("WEBPVP8 "), "a.webp", .webp),
            (ftyp("heic"), "IMG_0001.HEIC", .heic),
            (ftyp("M4A "), "voice.m4a", .m4a),
            (ftyp("qt  "), "clip.mov", .mov),
            (ftyp("isom"), "clip.mp4", .mp4),
            (Self.bytes("%PDF-1.7\n"), "timetable.pdf", .pdf),
            (Self.bytes("OggS") + [0, 2], "voice.ogg", .ogg),
            (Self.bytes("ID3") + [4, 0], "song.mp3", .mp3),
            ([0xFF, 0xFB, 0x90, 0x64], "song.mp3", .mp3),
            ([0xFF, 0xF1, 0x50, 0x80], "voice.aac", .aac),
            ([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84] + Self.bytes("webm"), "clip.webm", .webm),
            ([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Self.bytes("[Content_Types].xml word/document.xml"), "a.docx", .docx),
            ([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Self.bytes("[Content_Types].xml xl/workbook.xml"), "a.xlsx", .xlsx),
            (
                [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Self.bytes("mimetypeapplication/vnd.oasis.opendocument.text"), "a.odt",
                .odt
            ),
            ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "сочинение.doc", .doc),
            (Self.bytes("Домашнее задание: упр. 5, стр. 12\n"), "задание.txt", .text),
        ]
        for (head, name, type) in cases { #expect(FileType.sniff(head, name: name) == type, "\(name)") }
    }

    @Test func whatABrowserOrPhoneWouldRunIsRefused() {
        let refused: [([UInt8], String)] = [
            (Self.bytes("<!DOCTYPE html><html><script>alert(1)</script>"), "photo.png"),
            (Self.bytes("\n  <html><body onload=steal()>"), "homework.txt"),
            (Self.bytes("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"), "drawing.svg"),
            (Self.bytes("<?xml version=\"1.0\"?><svg/>"), "picture.jpg"),
            (Self.bytes("Hello <script>alert(1)</script>"), "note.txt"),
            (Self.bytes("#!/bin/sh\nrm -rf ~\n"), "run.txt"),
            (Self.bytes("alert(document.cookie)"), "app.js"),
            (Self.bytes("MZ") + [0x90, 0, 3, 0], "game.exe"),
            ([0x7F] + Self.bytes("ELF") + [2, 1, 1], "tool"),
            ([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Self.bytes("payload.exe"), "archive.zip"),
            ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "installer.msi"),
            ([0, 0, 0, 0x18] + Self.bytes("ftypavif"), "photo.avif"),
            ([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x88] + Self.bytes("matroska"), "film.mkv"),
            ([0xFF, 0xFE, 0x41, 0x00], "utf16.txt"),
        ]
        for (head, name) in refused { #expect(FileType.sniff(head, name: name) == nil, "\(name)") }
    }

    @Test func textCutInsideACharacterAtTheEndOfTheHeadIsStillText() {
        let text = Array(String(repeating: "я", count: 2048).utf8)  // 4,096 bytes
        #expect(FileType.sniff(Array(text.prefix(4095)), name: "a.txt") == .text)
    }

    @Test func onlyImagesAndPDFAreServedInline() {
        #expect(FileType.allCases.filter(\.isInline) == [.jpeg, .png, .webp, .gif, .pdf])
    }
}
