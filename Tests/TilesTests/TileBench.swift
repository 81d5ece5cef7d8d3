import Foundation
import GRDB
import GeoCore
import LayerStore
import Testing

@testable import Tiles

/// Not a test: measurements on a real database, printed, run only when asked:
///
///     ONEMAP_TILE_BENCH=/tmp/b500.sqlite [ONEMAP_TILE_BENCH_LAYER=farmland] \
///     [ONEMAP_TILE_BENCH_ZOOMS=0,4,8,10,12,14,15,16] [ONEMAP_TILE_BENCH_MAX=400] \
///     [ONEMAP_TILE_BENCH_GRID=4490] [ONEMAP_TILE_BENCH_COVERAGE=0] [ONEMAP_TILE_BENCH_DUMP=dir] \
///       swift test -c release -Xswiftc -enable-testing --filter TileBench
///
/// For each zoom: every tile over the layer's bounds (or the first MAX of them in a block
/// around the middle of the data), made cold (no tile cache), one at a time on one thread.
struct TileBench {
    static let env = ProcessInfo.processInfo.environment

    @Test(.enabled(if: env["ONEMAP_TILE_BENCH"] != nil))
    func tileSizesAndColdSpeedPerZoom() throws {
        let store = try Store(path: Self.env["ONEMAP_TILE_BENCH"]!)
        let name = Self.env["ONEMAP_TILE_BENCH_LAYER"] ?? "farmland"
        let zooms = (Self.env["ONEMAP_TILE_BENCH_ZOOMS"] ?? "0,2,4,6,8,9,10,11,12,13,14,15,16").split(separator: ",").compactMap { Int($0) }
        let maxTiles = Int(Self.env["ONEMAP_TILE_BENCH_MAX"] ?? "400")!
        let gridName = Self.env["ONEMAP_TILE_BENCH_GRID"] ?? "3857"
        let grid: TileMatrixSet = gridName == "4490" ? .cgcs2000Quad : .webMercatorQuad
        var options = TileOptions()
        if let m = Self.env["ONEMAP_TILE_BENCH_MINSIZE"].flatMap(Double.init) { options.minFeatureSize = m }
        let service = TileService(store: store, options: options, cacheBytes: 0)
        let source = try #require(try service.sources(.layers([name])).first)
        var t0 = Date()
        try source.warm()
        print(
            String(
                format: "bench %@ %@: %d features; summary built in %.2f s", name, grid.id, source.layer.version.count,
                Date().timeIntervalSince(t0)))
        let bounds = try #require(source.layer.version.bbox)
        print(
            "zoom | tiles | non-empty | tiles/s | ms/tile mean | ms max | KiB median | KiB p95 | KiB max | coverage drawn/data (median, min)"
        )
        for z in zooms {
            let r = grid.tiles(covering: bounds, z: z)
            var keys = r.y.flatMap { y in r.x.map { x in TileKey(z: z, x: x, y: y) } }
            if keys.count > maxTiles {
                // A square block around the middle of the data (dense there), row by row as a map asks.
                let side = Int(Double(maxTiles).squareRoot())
                let cx = (r.x.lowerBound + r.x.upperBound) / 2, cy = (r.y.lowerBound + r.y.upperBound) / 2
                keys = (0..<side).flatMap { j in (0..<side).map { i in TileKey(z: z, x: cx - side / 2 + i, y: cy - side / 2 + j) } }
            }
            var sizes: [Int] = []
            var slowest = 0.0
            var ratios: [Double] = []
            t0 = Date()
            for key in keys {
                let t1 = Date()
                let bytes = try source.tile(key, grid: grid)
                slowest = max(slowest, Date().timeIntervalSince(t1))
                if !bytes.isEmpty { sizes.append(bytes.count) }
                if let dump = Self.env["ONEMAP_TILE_BENCH_DUMP"], !bytes.isEmpty {
                    let dir = "\(dump)/\(key.z)/\(key.x)"
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(key.y).pbf"))
                }
            }
            let elapsed = Date().timeIntervalSince(t0)
            // Coverage on the first tiles with data (GEOS unions from z10 on: slow, so few).
            var sampled = 0
            let samples = Self.env["ONEMAP_TILE_BENCH_COVERAGE"] == "0" ? 0 : z >= 10 ? 6 : 40
            for key in keys where sampled < samples {
                let bytes = try source.tile(key, grid: grid)
                guard !bytes.isEmpty, let ratio = try Self.coverageRatio(bytes, key: key, grid: grid, source: source, exact: z >= 10),
                    ratio.data > 4096.0 * 4096 * 0.02
                else { continue }
                ratios.append(ratio.drawn / ratio.data)
                sampled += 1
            }
            sizes.sort()
            ratios.sort()
            func kib(_ n: Int?) -> String { n.map { String(format: "%.1f", Double($0) / 1024) } ?? "-" }
            print(
                String(
                    format: "z%d | %d | %d | %.1f | %.2f | %.1f | %@ | %@ | %@ | %@",
                    z, keys.count, sizes.count, Double(keys.count) / elapsed, elapsed / Double(keys.count) * 1000, slowest * 1000,
                    kib(sizes.isEmpty ? nil : sizes[sizes.count / 2]),
                    kib(sizes.isEmpty ? nil : sizes[min(sizes.count - 1, sizes.count * 95 / 100)]),
                    kib(sizes.last), ratios.isEmpty ? "-" : String(format: "%.3f, %.3f", ratios[ratios.count / 2], ratios[0])))
            #expect((sizes.last ?? 0) <= 500 * 1024)
        }
    }

    /// Coverage: the area the tile's polygons cover inside the tile against the area the
    /// data covers there. `exact`: both are GEOS unions clipped to the tile. Otherwise (low
    /// zooms, where a tile holds 100,000 parcels) sums: the data's om_area_m2 (in tile units²)
    /// of the features whose centres fall in the tile, and the drawn rings clipped to the tile
    /// (parcels do not overlap, nor do coverage squares, so sums are unions there).
    static func coverageRatio(_ bytes: [UInt8], key: TileKey, grid: TileMatrixSet, source: StoreLayerSource, exact: Bool) throws -> (
        drawn: Double, data: Double
    )? {
        let t = TileTransform(grid: grid, key: key, extent: 4096)
        let box = t.lonLatBox(buffer: 0)
        let engine = GeometryEngine()
        let square = try engine.make(
            .polygon(Polygon([[Coordinate(0, 0), Coordinate(4096, 0), Coordinate(4096, 4096), Coordinate(0, 4096), Coordinate(0, 0)]])))
        var data = 0.0
        var parts: [EngineGeometry] = []
        try source.store.pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT om_minx, om_miny, om_maxx, om_maxy, om_area_m2, geom FROM "\(source.layer.version.tableName)" WHERE om_fid IN
                    (SELECT pkid FROM "idx_\(source.layer.version.tableName)_geom" WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?)
                    """, arguments: [box.minX, box.maxX, box.minY, box.maxY])
            while let row = try rows.next() {
                if exact {
                    let g = try SpatiaLiteGeometry.decode(row[5])
                    parts.append(
                        try engine.make(
                            g.mapSequences {
                                $0.map {
                                    let p = t.apply($0.x, $0.y); return Coordinate(p.x, p.y)
                                }
                            }))
                    continue
                }
                let cx = ((row[0] as Double) + (row[2] as Double)) / 2, cy = ((row[1] as Double) + (row[3] as Double)) / 2
                guard cx >= box.minX, cx < box.maxX, cy > box.minY, cy <= box.maxY else { continue }
                let k = grid.unitsPerMetre(latitude: cy, z: key.z, extent: 4096)
                data += (row[4] as Double) * k.x * k.y
            }
        }
        if exact { data = parts.isEmpty ? 0 : try engine.union(parts).intersection(square).planarArea() }
        guard data > 0 else { return nil }
        var drawn = 0.0
        var drawnParts: [EngineGeometry] = []
        for layer in try decodeTile(bytes).layers {
            for f in layer.features where f.type == 3 {
                if exact {
                    for p in polygons(f) {
                        let rings = p.map { r in
                            r.map { Coordinate(Double($0.x), Double($0.y)) } + [Coordinate(Double(r[0].x), Double(r[0].y))]
                        }
                        drawnParts.append(try engine.make(.polygon(Polygon(rings))))
                    }
                    continue
                }
                for ring in f.parts {
                    let clipped = TileGeometry.clipRing(ring.map { TileVertex(x: Double($0.x), y: Double($0.y)) }, lo: 0, hi: 4096)
                    drawn += TileGeometry.twiceArea(clipped) / 2
                }
            }
        }
        if exact { drawn = drawnParts.isEmpty ? 0 : try engine.union(drawnParts).intersection(square).planarArea() }
        return (drawn, data)
    }
}
