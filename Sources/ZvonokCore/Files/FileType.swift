/// The kinds of file Zvonok accepts (issue 17), told by their bytes — magic numbers — and never by the name or the
/// `Content-Type` a client declares: a photo, a document, a voice note or a video that a school chat needs, and nothing
/// a browser or a phone would run (executables, HTML, SVG, scripts).
public enum FileType: String, Sendable, CaseIterable, Codable {
    case jpeg = "image/jpeg"
    case png = "image/png"
    case webp = "image/webp"
    case gif = "image/gif"
    case heic = "image/heic"
    case pdf = "application/pdf"
    case docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    case xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    case pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    case odt = "application/vnd.oasis.opendocument.text"
    case ods = "application/vnd.oasis.opendocument.spreadsheet"
    case odp = "application/vnd.oasis.opendocument.presentation"
    case doc = "application/msword"
    case xls = "application/vnd.ms-excel"
    case ppt = "application/vnd.ms-powerpoint"
    case text = "text/plain"
    case mp3 = "audio/mpeg"
    case m4a = "audio/mp4"
    case aac = "audio/aac"
    case ogg = "audio/ogg"
    case mp4 = "video/mp4"
    case mov = "video/quicktime"
    case webm = "video/webm"

    /// The MIME type as served; text is always UTF-8.
    public var contentType: String { self == .text ? "text/plain; charset=utf-8" : rawValue }

    /// Photos whose metadata (EXIF with GPS, XMP, comments) is removed before they are stored.
    public var isStrippedPhoto: Bool { self == .jpeg || self == .png || self == .webp }

    /// Images a browser shows: previews are made of them, and they are served `inline`.
    public var isImage: Bool { rawValue.hasPrefix("image/") }

    /// Served `inline` (shown in the browser, inside the sandbox): images and PDF; everything else is an attachment.
    public var isInline: Bool { (isImage && self != .heic) || self == .pdf }

    /// Whether a preview can be drawn of it (with libvips).
    public var hasPreviewSource: Bool { isImage || self == .pdf }

    /// How many leading bytes `sniff` wants to decide (fewer are enough for a shorter file).
    public static let sniffLength = 4096

    /// The type of a file from its first bytes (up to `sniffLength`), `name` choosing only among the legacy Office
    /// formats, which share one container; nil for anything not accepted.
    public static func sniff(_ head: [UInt8], name: String) -> FileType? {
        let bytes = head[...]
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: Array("GIF87a".utf8)) || bytes.starts(with: Array("GIF89a".utf8)) { return .gif }
        if bytes.starts(with: Array("RIFF".utf8)), bytes.dropFirst(8).starts(with: Array("WEBP".utf8)) { return .webp }
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: Array("OggS".utf8)) { return .ogg }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) { return isWebM(bytes) ? .webm : nil }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return officeZip(bytes) }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return legacyOffice(name: name) }
        if bytes.dropFirst(4).starts(with: Array("ftyp".utf8)) { return isoMedia(brand: bytes.dropFirst(8).prefix(4)) }
        if bytes.starts(with: Array("ID3".utf8)) { return .mp3 }
        if bytes.count >= 2, bytes[0] == 0xFF {
            switch bytes[1] {
            case 0xF1, 0xF9: return .aac
            case 0xE2...0xE3, 0xF2...0xF3, 0xFA...0xFB: return .mp3
            default: break
            }
        }
        return PlainText.isPlain(bytes, name: name) ? .text : nil
    }

    /// MP4, QuickTime, M4A and HEIC share ISO base media's `ftyp` box; its major brand tells them apart.
    private static func isoMedia(brand: ArraySlice<UInt8>) -> FileType? {
        switch String(decoding: brand, as: UTF8.self) {
        case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1": .heic
        case "M4A ", "M4B ": .m4a
        case "qt  ": .mov
        case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "3gp4", "3gp5", "3gp6", "MSNV", "M4V ": .mp4
        default: nil
        }
    }

    /// Matroska's header names its document type; only WebM is accepted.
    private static func isWebM(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.prefix(64).firstRange(of: [0x42, 0x82, 0x84] + Array("webm".utf8)) != nil
    }

    /// OpenDocument stores its MIME type first, uncompressed; Office Open XML names its parts in the first local
    /// headers. Any other ZIP archive is refused.
    private static func officeZip(_ bytes: ArraySlice<UInt8>) -> FileType? {
        let text = String(decoding: bytes, as: UTF8.self)
        if bytes.dropFirst(30).starts(with: Array("mimetype".utf8)) {
            let types: [FileType] = [.odt, .ods, .odp]
            return types.first { bytes.dropFirst(38).starts(with: Array($0.rawValue.utf8)) }
        }
        guard text.contains("[Content_Types].xml") || text.contains("_rels/.rels") else { return nil }
        if text.contains("word/") { return .docx }
        if text.contains("xl/") { return .xlsx }
        if text.contains("ppt/") { return .pptx }
        return nil
    }

    /// Word 97–2003, Excel and PowerPoint files are one container (OLE2); the name's extension says which.
    private static func legacyOffice(name: String) -> FileType? {
        switch name.split(separator: ".").last?.lowercased() {
        case "doc": .doc
        case "xls": .xls
        case "ppt": .ppt
        default: nil
        }
    }
}

/// Plain text as accepted: UTF-8 with no control characters but tab and line ends, that is no markup a browser
/// would render and no script by its name.
enum PlainText {
    /// Extensions of text that runs or renders: refused even when the bytes are plain text.
    static let refusedExtensions: Set<String> = [
        "htm", "html", "xhtml", "shtml", "svg", "xml", "js", "mjs", "vbs", "vbe", "wsf", "hta", "bat", "cmd", "ps1", "sh", "py", "php", "pl",
        "rb", "jar", "lnk", "url", "desktop", "reg", "scr", "exe", "msi", "apk",
    ]

    static func isPlain(_ bytes: ArraySlice<UInt8>, name: String) -> Bool {
        if let ext = name.split(separator: ".").last?.lowercased(), name.contains("."), refusedExtensions.contains(ext) { return false }
        var body = bytes
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        // A multi-byte character cut at the end of the head is not an error.
        guard let text = String(validating: body.dropLast(trailingPartialCharacter(body)), as: UTF8.self) else { return false }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && ![0x09, 0x0A, 0x0D, 0x0C].contains($0.value) }) else { return false }
        let start = text.drop(while: { $0.isWhitespace }).prefix(2)
        guard !start.hasPrefix("<"), start != "#!" else { return false }
        let lowered = text.prefix(1024).lowercased()
        return !["<html", "<script", "<svg", "<!doctype", "<body", "<iframe", "<?xml"].contains { lowered.contains($0) }
    }

    /// How many bytes at the end start a UTF-8 sequence that the cut left incomplete.
    private static func trailingPartialCharacter(_ bytes: ArraySlice<UInt8>) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.endIndex - back]
            if byte & 0xC0 == 0x80 { continue }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
