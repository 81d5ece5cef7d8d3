import Foundation
import GRDB
import GeoCore

/// An MBTiles file read in place, read-only: a tile is one indexed query. The grid is the
/// one its metadata names (`tile_matrix_set`), Web Mercator when it names none, as the spec
/// assumes.
public final class MBTilesReader: TileArchive {
    public let path: String
    public let grid: TileMatrixSet
    public let name: String
    public let zooms: ClosedRange<Int>
    public let bounds: BoundingBox
    public let metadataJSON: Data
    private let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        func fail(_ what: String) -> TileArchiveError { TileArchiveError("\(path): not a usable MBTiles file: \(what)") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "mbtiles"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            let rows = try pool.read { db -> [String: String] in
                guard try db.tableExists("metadata"), try db.tableExists("tiles") || db.viewExists("tiles") else {
                    throw fail("no `metadata` and `tiles` tables")
                }
                return Dictionary(
                    try Row.fetchAll(db, sql: "SELECT name, value FROM metadata").compactMap { r -> (String, String)? in
                        guard let k: String = r[0], let v: String = r[1] else { return nil }
                        return (k, v)
                    }, uniquingKeysWith: { a, _ in a })
            }
            guard rows["format"] == "pbf" else { throw fail("format '\(rows["format"] ?? "none")', not vector tiles (pbf)") }
            grid = rows["tile_matrix_set"].flatMap { TileMatrixSet.named($0) } ?? .webMercatorQuad
            name = rows["name"] ?? "archive"
            let minZoom = rows["minzoom"].flatMap { Int($0) } ?? 0
            let maxZoom = rows["maxzoom"].flatMap { Int($0) } ?? TileMatrixSet.advertisedMaxZoom
            guard 0 <= minZoom, minZoom <= maxZoom, maxZoom <= TileMatrixSet.maxZoom else { throw fail("zooms \(minZoom)…\(maxZoom)") }
            zooms = minZoom...maxZoom
            let b = (rows["bounds"] ?? "").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            bounds = b.count == 4 ? BoundingBox(b[0], b[1], b[2], b[3]) : BoundingBox(-180, -85.0511287798066, 180, 85.0511287798066)
            var metadata: [String: Any] = [:]
            if let json = rows["json"], let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] {
                metadata = object
            }
            for k in ["name", "description", "format", "type"] { metadata[k] = rows[k] }
            metadataJSON = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])
        } catch let e as TileArchiveError {
            throw e
        } catch {
            throw fail("\(error)")
        }
    }

    public func keys() throws -> [TileKey] {
        let grid = self.grid
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT zoom_level, tile_column, tile_row FROM tiles").map { r in
                let z: Int = r[0]
                return TileKey(z: z, x: r[1], y: grid.matrixHeight(z) - 1 - (r[2] as Int))
            }
        }
    }

    public func tile(_ key: TileKey) throws -> [UInt8]? {
        guard zooms.contains(key.z), grid.contains(key) else { return nil }
        let row = grid.matrixHeight(key.z) - 1 - key.y
        let data = try pool.read { db in
            try Data.fetchOne(
                db, sql: "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                arguments: [key.z, key.x, row])
        }
        guard let data else { return nil }
        let bytes = Array(data)
        // The spec stores vector tiles gzipped; some writers do not.
        return bytes.starts(with: [0x1f, 0x8b]) || bytes.isEmpty ? bytes : try Gzip.compress(bytes)
    }
}
