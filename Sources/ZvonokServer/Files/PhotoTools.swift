import Foundation
import Subprocess
import SystemPackage

/// libvips' programs (Debian's `libvips-tools`), run as separate processes: previews of images (`vipsthumbnail`) and
/// HEIC photos made into JPEG (`vips`), which strips their metadata. A process keeps a decoder's crash on a hostile
/// file away from the server, and libvips is the ecosystem's well-kept image library where Swift has none on Linux.
/// Only loaders libvips trusts run (`VIPS_BLOCK_UNTRUSTED`). Where libvips is missing the server serves without
/// previews and refuses HEIC photos, and says so once at start.
struct PhotoTools: Sendable {
    let vips: FilePath?
    let thumbnail: FilePath?
    /// A preview's longest side, in pixels.
    static let previewSize = 320

    init(directories: [String]) {
        func find(_ name: String) -> FilePath? {
            directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }.map { FilePath($0) }
        }
        vips = find("vips")
        thumbnail = find("vipsthumbnail")
    }

    var makesPreviews: Bool { thumbnail != nil }

    /// A JPEG of at most `previewSize` pixels a side of the image at `source`, written to `target`; false when the
    /// image cannot be read (or libvips is missing).
    func preview(of source: FilePath, to target: FilePath) async -> Bool {
        guard let thumbnail else { return false }
        let size = "\(Self.previewSize)x\(Self.previewSize)"
        return await run(thumbnail, [source.string, "--size", size, "-o", "\(target.string)[Q=80,strip]"])
    }

    /// The HEIC photo at `source` as a JPEG without metadata at `target`, turned upright; false when it cannot be read.
    func jpeg(of source: FilePath, to target: FilePath) async -> Bool {
        guard let vips else { return false }
        return await run(vips, ["autorot", source.string, "\(target.string)[Q=90,strip]"])
    }

    private func run(_ program: FilePath, _ arguments: [String]) async -> Bool {
        let environment = Environment.inherit.updating(["VIPS_BLOCK_UNTRUSTED": "1"])
        let result = try? await Subprocess.run(
            .path(program), arguments: Arguments(arguments), environment: environment, output: .discarded, error: .discarded)
        return result?.terminationStatus.isSuccess ?? false
    }
}
