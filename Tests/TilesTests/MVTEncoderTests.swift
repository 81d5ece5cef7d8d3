import Foundation
import FuzzSupport
import GeoCore
import Testing

@testable import Tiles

struct MVTEncoderTests {
    @Test func specExamplePolygonEncodesAsTheSpecSays() {
        // MVT 2.1 §4.3.5.5: (3,6) (8,12) (20,34) → [9 6 12 18 10 12 24 44 15].
        var w = MVTGeometryWriter()
        w.ring([TilePoint(3, 6), TilePoint(8, 12), TilePoint(20, 34)])
        #expect(w.commands == [9, 6, 12, 18, 10, 12, 24, 44, 15])
        // §4.3.5.4: two lines, the second relative to the end of the first.
        var l = MVTGeometryWriter()
        l.lineString([TilePoint(2, 2), TilePoint(2, 10), TilePoint(10, 10)])
        l.lineString([TilePoint(1, 1), TilePoint(3, 5)])
        #expect(l.commands == [9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8])
        // §4.3.5.2: multipoint.
        var p = MVTGeometryWriter()
        p.points([TilePoint(5, 7), TilePoint(3, 2)])
        #expect(p.commands == [17, 10, 14, 3, 9])
    }

    @Test func roundTripKeepsTypesIdsAndSharedKeysAndValues() throws {
        var layer = MVTLayerBuilder(name: "farmland", extent: 4096)
        var poly = MVTGeometryWriter()
        poly.ring([TilePoint(0, 0), TilePoint(100, 0), TilePoint(100, 100), TilePoint(0, 100)])
        poly.ring([TilePoint(20, 20), TilePoint(20, 60), TilePoint(60, 60), TilePoint(60, 20)])
        layer.addFeature(
            id: 42, type: .polygon, geometry: poly.commands,
            properties: [("DLMC", .string("水田")), ("TBMJ", .double(1234.5)), ("GJ", .int(610)), ("DELTA", .int(-3)), ("OK", .bool(true))])
        var line = MVTGeometryWriter()
        line.lineString([TilePoint(-10, 5), TilePoint(4100, 5)])
        layer.addFeature(id: 7, type: .lineString, geometry: line.commands, properties: [("DLMC", .string("水田")), ("GJ", .int(610))])
        var point = MVTGeometryWriter()
        point.points([TilePoint(2048, 2048)])
        layer.addFeature(id: nil, type: .point, geometry: point.commands, properties: [])

        let tile = try decodeTile(layer.encoded())
        let l = try #require(tile.layer("farmland"))
        #expect(l.version == 2 && l.extent == 4096 && l.features.count == 3)
        // Each key and each value is stored once however many features use it.
        #expect(l.keys.sorted() == ["DELTA", "DLMC", "GJ", "OK", "TBMJ"])
        #expect(l.values.count == 5)
        let f = l.features[0]
        #expect(f.id == 42 && f.type == 3)
        #expect(f.properties["DLMC"] == .string("水田"))
        #expect(f.properties["TBMJ"] == .double(1234.5))
        #expect(f.properties["GJ"] == .uint(610))
        #expect(f.properties["DELTA"] == .sint(-3))
        #expect(f.properties["OK"] == .bool(true))
        #expect(f.parts.count == 2)
        #expect(f.parts[0].map { [$0.x, $0.y] } == [[0, 0], [100, 0], [100, 100], [0, 100]])
        #expect(twiceArea(f.parts[0]) > 0 && twiceArea(f.parts[1]) < 0)
        #expect(l.features[1].id == 7 && l.features[1].type == 2 && l.features[1].parts[0].map { [$0.x, $0.y] } == [[-10, 5], [4100, 5]])
        #expect(l.features[2].id == nil && l.features[2].type == 1 && l.features[2].parts[0].map { [$0.x, $0.y] } == [[2048, 2048]])
    }

    @Test func emptyLayerEncodesToNothingAndLayersConcatenate() throws {
        #expect(MVTLayerBuilder(name: "x").encoded().isEmpty)
        var a = MVTLayerBuilder(name: "a"), b = MVTLayerBuilder(name: "b")
        var w = MVTGeometryWriter()
        w.points([TilePoint(1, 1)])
        a.addFeature(id: 1, type: .point, geometry: w.commands, properties: [("k", .string("v"))])
        b.addFeature(id: 1, type: .point, geometry: w.commands, properties: [("k", .int(1))])
        let tile = try decodeTile(a.encoded() + b.encoded())
        #expect(tile.layers.map(\.name) == ["a", "b"])
        #expect(tile.layer("b")?.features.first?.properties["k"] == .uint(1))
    }

    @Test func gzipRoundTripsAndGunzipAgrees() throws {
        let data = [UInt8]((0..<50_000).map { UInt8(truncatingIfNeeded: $0 * 7 % 251) })
        let gz = try Gzip.compress(data)
        #expect(gz.count < data.count && gz.starts(with: [0x1F, 0x8B]))
        #expect(try Gzip.decompress(gz) == data)
        // The system's gunzip reads it too.
        let path = NSTemporaryDirectory() + "onemap-gz-\(UUID().uuidString).gz"
        try Data(gz).write(to: URL(fileURLWithPath: path))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-t", path]
        try ChildProcess.launch(p)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
