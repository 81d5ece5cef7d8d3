import Foundation
import GRDB

/// An MBTiles 1.3 file (github.com/mapbox/mbtiles-spec): SQLite with a `tiles` table (rows
/// counted from the bottom, as TMS does) and a `metadata` table, which tablets' offline map
/// apps and GDAL's MBTiles driver read. Tiles are gzipped MVT, `format` is `pbf`, and `json`
/// carries the `vector_layers`.
///
/// MBTiles assumes Web Mercator. An archive on the CGCS2000 grid says so in its metadata
/// (`crs`, `tile_matrix_set`), for the clients that read it (天地图-style 4490 viewers); others
/// would place its tiles wrongly, so it is written only when asked for.
public final class MBTilesWriter: TileArchiveWriter {
    private let queue: DatabaseQueue
    private let grid: TileMatrixSet
    private var pending: [(TileKey, [UInt8])] = []

    public init(path: String, grid: TileMatrixSet) throws {
        self.grid = grid
        var configuration = Configuration()
        configuration.label = "mbtiles"
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            // The file is new and is renamed into place only once complete: no journal needed.
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(
                sql: """
                    CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
                    CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL);
                    """)
        }
    }

    public func add(_ key: TileKey, gzipped bytes: [UInt8]) throws {
        pending.append((key, bytes))
        if pending.count >= 512 { try flush() }
    }

    private func flush() throws {
        let rows = pending
        pending.removeAll(keepingCapacity: true)
        let grid = self.grid
        try queue.inTransaction { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO tiles VALUES (?, ?, ?, ?)")
            for (key, bytes) in rows {
                try insert.execute(arguments: [key.z, key.x, grid.matrixHeight(key.z) - 1 - key.y, Data(bytes)])
            }
            return .commit
        }
    }

    public func finish(_ description: TileArchiveDescription) throws {
        try flush()
        let b = description.bounds
        var rows: [(String, String)] = [
            ("name", description.metadata["name"] as? String ?? "onemap"),
            ("description", description.metadata["description"] as? String ?? ""),
            ("format", "pbf"),
            ("type", "overlay"),
            ("version", "1"),
            ("minzoom", String(description.minZoom)),
            ("maxzoom", String(description.maxZoom)),
            ("bounds", [b.minX, b.minY, b.maxX, b.maxY].map { String($0) }.joined(separator: ",")),
            ("center", "\((b.minX + b.maxX) / 2),\((b.minY + b.maxY) / 2),\(description.centerZoom)")
        ]
        // `json` carries the layers, and what an update reads back (the versions, the box).
        var json: [String: Any] = [:]
        for (k, v) in description.metadata where k == "vector_layers" || k.hasPrefix("onemap:") { json[k] = v }
        if !json.isEmpty {
            rows.append(("json", String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)))
        }
        if description.grid != .webMercatorQuad {
            rows.append(("crs", description.grid.crs))
            rows.append(("tile_matrix_set", description.grid.id))
        }
        try queue.inTransaction { db in
            for (name, value) in rows {
                try db.execute(sql: "INSERT INTO metadata VALUES (?, ?)", arguments: [name, value])
            }
            // After the rows, so the index is built once rather than kept up on every insert.
            try db.execute(sql: "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
            try db.execute(sql: "CREATE UNIQUE INDEX name ON metadata (name)")
            return .commit
        }
        try queue.close()
    }
}
