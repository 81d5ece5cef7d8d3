import Foundation
import FuzzSupport
import GeoCore
import LayerStore
import Testing

@testable import Tiles

/// GDAL's MVT driver, a reader written by others, opens our tiles and finds the features
/// where they are.
struct GDALReadsTilesTests {
    static let ogrinfo = ["/usr/bin/ogrinfo", "/usr/local/bin/ogrinfo"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let r = try ChildProcess.run(ogrinfo!, args, mergeError: true)
        return (r.status, String(decoding: r.stdout, as: UTF8.self))
    }

    @Test(.enabled(if: ogrinfo != nil, "needs ogrinfo (Debian gdal-bin)"))
    func ogrinfoReadsATileAndPlacesItsFeatures() throws {
        let fx = try TileFixtures()
        try fx.layer(
            "zones", fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "GJ", type: .integer)],
            [
                (
                    .polygon(
                        Polygon([
                            TileFixtures.box(120.001, 28.001, 120.004, 28.003),
                            Array(TileFixtures.box(120.002, 28.0015, 120.003, 28.0025).reversed())
                        ])), [.text("A"), .integer(3)]
                ),
                (.polygon(Polygon([TileFixtures.box(120.005, 28.001, 120.006, 28.002)])), [.text("B"), .integer(-4)])
            ])
        try fx.layer(
            "pipes", kind: .pipeline, geometryType: "LineString",
            [(.lineString([Coordinate(119.99, 28.0021), Coordinate(120.02, 28.0022)]), [.text("GD1")])])
        let service = TileService(store: fx.store)
        let z = 14
        let r = TileMatrixSet.webMercatorQuad.tiles(covering: BoundingBox(120.002, 28.002, 120.002, 28.002), z: z)
        let key = TileKey(z: z, x: r.x.lowerBound, y: r.y.lowerBound)
        let tile = try service.tile(.all, key, grid: .webMercatorQuad)
        // The driver takes z/x/y from the path.
        let dir = fx.dir + "/tiles/\(z)/\(key.x)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/\(key.y).pbf"
        try Data(tile.bytes).write(to: URL(fileURLWithPath: path))

        let (status, text) = try Self.run(["-ro", "-al", "-so", path])
        #expect(status == 0, "\(text)")
        #expect(text.contains("Layer name: zones") && text.contains("Layer name: pipes"), "\(text)")
        #expect(text.contains("Feature Count: 2") && text.contains("Feature Count: 1"), "\(text)")

        // Features in full: attributes and geometry in EPSG:3857 where the data is.
        let (status2, full) = try Self.run(["-ro", "-al", "-q", path, "zones"])
        #expect(status2 == 0)
        #expect(full.contains("BSM (String) = A") && full.contains("GJ (Integer") && full.contains("= -4"), "\(full)")
        #expect(full.contains("MULTIPOLYGON") || full.contains("POLYGON"), "\(full)")
        // 120.001°E is 13358450.4 m in Web Mercator; one tile unit at z14 is 0.6 m.
        let numbers = full.split(whereSeparator: { !"0123456789.-".contains($0) }).compactMap { Double($0) }
        let xs = numbers.filter { $0 > 1.3e7 && $0 < 1.4e7 }
        let x0 = 6378137.0 * 120.001 * .pi / 180
        #expect(xs.contains { abs($0 - x0) < 1.5 }, "no vertex near x = \(x0): \(xs.prefix(10))")
    }
}
