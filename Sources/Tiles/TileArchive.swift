import Foundation
import GeoCore

/// A finished tile archive opened for reading: what `onemap serve --tiles` answers from. Tiles
/// come back as stored (gzipped MVT), so a caller that accepts gzip gets them untouched.
public protocol TileArchive: Sendable {
    var path: String { get }
    var grid: TileMatrixSet { get }
    /// The selection the archive holds, as its metadata names it: "onemap", a layer, "a,b".
    var name: String { get }
    var zooms: ClosedRange<Int> { get }
    var bounds: BoundingBox { get }
    /// The metadata as JSON (TileJSON-style: `vector_layers`, `description`, …).
    var metadataJSON: Data { get }
    /// The tile's stored bytes, nil when the archive has none there (an empty tile).
    func tile(_ key: TileKey) throws -> [UInt8]?
    /// Every tile the archive holds.
    func keys() throws -> [TileKey]
}

extension TileArchive {
    public var metadata: [String: Any] {
        (try? JSONSerialization.jsonObject(with: metadataJSON)) as? [String: Any] ?? [:]
    }
}

public enum TileArchives {
    /// Opens a PMTiles or MBTiles file, told apart by its first bytes, checking that it is
    /// whole and holds vector tiles; a file that is neither, or is damaged, is refused with
    /// what is wrong.
    public static func open(_ path: String) throws -> TileArchive {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TileArchiveError("\(path): cannot be opened") }
        let start = Array((try? handle.read(upToCount: 16)) ?? Data())
        try? handle.close()
        if start.starts(with: Array("PMTiles".utf8)) { return try PMTilesReader(path: path) }
        if start.starts(with: Array("SQLite format 3".utf8)) { return try MBTilesReader(path: path) }
        throw TileArchiveError(
            "\(path): neither a PMTiles nor an MBTiles file (it starts \(start.prefix(8).map { String(format: "%02x", $0) }.joined()))")
    }
}
