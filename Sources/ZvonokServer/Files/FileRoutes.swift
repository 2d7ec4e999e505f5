import Foundation
import Hummingbird
import ZvonokCore
import ZvonokStorage

/// Files in chats (issue 17): `POST /v1/chats/{id}/files?name=` takes the raw bytes; `GET /v1/files/{id}` and
/// `GET /v1/files/{id}/preview` serve them, with ranges, to the members of the chat the file was posted in (and to
/// its uploader before it is posted). Anyone else gets 404, as for an id that does not exist.
struct FileRoutes {
    let files: FileStore
    let intake: FileIntake
    let storage: any BlobStorage
    let limits: FileLimits

    init(database: Database, storage: any BlobStorage, configuration: FileConfiguration) {
        files = FileStore(database: database)
        self.storage = storage
        limits = configuration.limits
        intake = FileIntake(
            files: files, storage: storage, tools: PhotoTools(directories: configuration.vipsDirectories), configuration: configuration)
    }

    func register(on router: some RouterMethods<ZvonokRequestContext>) {
        let v1 = router.group("v1")
        v1.post("chats/:id/files", use: upload)
        v1.get("files/:id", use: download)
        v1.get("files/:id/preview", use: preview)
    }

    @Sendable func upload(_ request: Request, context: ZvonokRequestContext) async throws -> EditedResponse<Wire.FileBody> {
        let caller = try context.requireIdentity()
        let chat = try request.id("id", .chat, context: context)
        guard let membership = try await files.membership(of: caller.personID, in: chat) else { throw ZvonokError.notFound("no such chat") }
        guard ChatPolicy.mayPost(role: caller.role, in: membership.kind), !membership.isArchived else {
            throw ZvonokError.forbidden("you cannot post in this chat")
        }
        let name = try FileLimits.validName(request.uri.queryParameters.get("name") ?? "")
        let size = try declaredSize(request)
        let used = try await files.uploaded(by: caller.personID, since: Date().addingTimeInterval(-24 * 3600))
        guard used + size <= limits.dailyQuota else {
            throw ZvonokError.rateLimited("the daily upload quota of \(limits.dailyQuota >> 20) MiB is used up; try again tomorrow")
        }
        let (file, blob) = try await intake.take(.init(chatID: chat, uploaderID: caller.personID, name: name, declaredSize: size), body: request.body)
        var body = Wire.FileBody(file)
        body.sha256 = blob.description
        return EditedResponse(status: .created, response: body)
    }

    /// The body's length from `Content-Length`, checked before a byte of it is read.
    private func declaredSize(_ request: Request) throws(ZvonokError) -> Int64 {
        guard let header = request.headers[.contentLength], let size = Int64(header) else {
            throw .invalidArgument("an upload needs a Content-Length")
        }
        guard size > 0 else { throw .invalidArgument("the file is empty") }
        guard size <= limits.maximumSize else {
            throw ZvonokError(.payloadTooLarge, "a file holds at most \(limits.maximumSize >> 20) MiB")
        }
        return size
    }

    @Sendable func download(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let file = try await visibleFile(request, context: context)
        return try serve(file.blob, size: file.size, name: file.name, type: file.type, request: request)
    }

    @Sendable func preview(_ request: Request, context: ZvonokRequestContext) async throws -> Response {
        let file = try await visibleFile(request, context: context)
        guard let preview = file.preview, let size = file.previewSize else { throw ZvonokError.notFound("this file has no preview") }
        let name = (file.name.split(separator: ".").dropLast().joined(separator: ".").nonEmpty ?? file.name) + "-preview.jpg"
        return try serve(preview, size: size, name: name, type: .jpeg, request: request)
    }

    /// The file behind the path's id, if the caller may have it: a member of the chat it was posted in (unless its
    /// message was deleted), or its uploader before it is posted.
    private func visibleFile(_ request: Request, context: ZvonokRequestContext) async throws -> FileStore.StoredFile {
        let caller = try context.requireIdentity()
        let notFound = ZvonokError.notFound("no such file")
        guard let file = try await files.file(try request.id("id", .file, context: context)) else { throw notFound }
        if file.isPosted {
            guard !file.isMessageDeleted, try await files.membership(of: caller.personID, in: file.chatID) != nil else { throw notFound }
        } else {
            guard file.uploaderID == caller.personID else { throw notFound }
        }
        return file
    }

    /// The blob, whole or the asked range, streamed from the back end a piece at a time.
    private func serve(_ blob: BlobKey, size: Int64, name: String, type: FileType, request: Request) throws -> Response {
        let etag = FileServing.etag(blob)
        var headers = FileServing.headers(name: name, type: type, etag: etag, length: size)
        if FileServing.isFresh(request.headers[.ifNoneMatch], etag: etag) {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        let ifRange = request.headers[.ifRange]
        var range: Range<Int64>?
        do {
            range = ifRange == nil || ifRange == etag ? try FileServing.range(request.headers[.range], size: size) : nil
        } catch {
            var refusal = ErrorMiddleware.response(for: error)
            refusal.headers[.contentRange] = "bytes */\(size)"
            return refusal
        }
        let served = range ?? 0..<size
        headers[.contentLength] = String(served.count)
        if range != nil { headers[.contentRange] = "bytes \(served.lowerBound)-\(served.upperBound - 1)/\(size)" }
        let storage = self.storage
        let body = ResponseBody(contentLength: served.count) { writer in
            try await storage.read(blob, range: served) { try await writer.write($0) }
            try await writer.finish(nil)
        }
        return Response(status: range == nil ? .ok : .partialContent, headers: headers, body: body)
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
