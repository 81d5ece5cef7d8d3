import Foundation
import GeoCore
import LayerStore
import Testing

@testable import Tiles

/// Large layers are cut from memory (`ResidentLayer`), small ones through SQL. Both must give
/// the same tiles; the memory form's shortcuts (Float offsets, a straight chord for Mercator
/// over a small box) must stay well under a tile unit.
struct ResidentLayerTests {
    /// The same parcels through both paths: the same features, ids, properties, and outlines
    /// within a unit (Float offsets and the Mercator chord may move a vertex across a
    /// rounding boundary, never further).
    @Test(arguments: [TileMatrixSet.webMercatorQuad, TileMatrixSet.cgcs2000Quad])
    func residentTilesMatchTheSQLPath(grid: TileMatrixSet) throws {
        let fx = try TileFixtures()
        let parcels = TileFixtures.denseParcels(count: 400)
        try fx.layer("farmland", fields: TileFixtures.parcelFields, parcels)
        let bounds = try #require(try fx.store.layer(named: "farmland").version.bbox)
        let inMemory = TileService(store: fx.store, options: TileOptions(summaryThreshold: 100))
        let throughSQL = TileService(store: fx.store, options: TileOptions(summaryThreshold: 1_000_000))
        #expect(try inMemory.sources(.layers(["farmland"]))[0].isResident)
        #expect(try !throughSQL.sources(.layers(["farmland"]))[0].isResident)
        var compared = 0
        for z in [13, 15, 17, 20] {
            for key in StoreTileTests.keys(bounds, z: z, grid: grid).prefix(6) {
                let a = try decodeTile(try inMemory.tile(.layers(["farmland"]), key, grid: grid).bytes).layer("farmland")
                let b = try decodeTile(try throughSQL.tile(.layers(["farmland"]), key, grid: grid).bytes).layer("farmland")
                let fa = (a?.features ?? []).filter { $0.id != nil }, fb = (b?.features ?? []).filter { $0.id != nil }
                #expect(fa.map(\.id) == fb.map(\.id), "z\(z) \(key): the same features")
                for (x, y) in zip(fa, fb) {
                    #expect(x.properties == y.properties, "feature \(x.id!)")
                    #expect(x.parts.count == y.parts.count, "feature \(x.id!) at z\(z): rings")
                    for (p, q) in zip(x.parts, y.parts) where p.count == q.count {
                        let far = zip(p, q).map { max(abs($0.x - $1.x), abs($0.y - $1.y)) }.max() ?? 0
                        #expect(far <= 1, "feature \(x.id!) at z\(z): a vertex \(far) units apart")
                    }
                    compared += 1
                }
            }
        }
        #expect(compared > 100, "the tiles should hold outlines to compare")
    }

    /// The straight Mercator chord against the exact projection, at the deepest zoom served:
    /// within a twentieth of a unit wherever the chord is used.
    @Test func mercatorChordStaysWithinATwentiethOfAUnit() {
        var shapes = FeatureShapes()
        var rng = SplitMix(11)
        var features: [[Coordinate]] = []
        for i in 0..<200 {
            // From a few metres to tens of kilometres, at Lishui's latitude and far north.
            let size = pow(10, -4.5 + 4 * rng.next())
            let lon = 119 + rng.next(), lat = (i % 2 == 0 ? 27.5 : 70) + rng.next()
            let ring = (0..<12).map { _ in Coordinate(lon + size * rng.next(), lat + size * rng.next()) }
            features.append(ring)
            let box = BoundingBox(ring.map(\.x).min()!, ring.map(\.y).min()!, ring.map(\.x).max()!, ring.map(\.y).max()!)
            shapes.append(.lineString(ring), origin: Coordinate(box.minX, box.minY), top: box.maxY)
        }
        var chords = 0
        for z in [8, 14, 18, 24] {
            for (i, ring) in features.enumerated() {
                let c = ring[0]
                let key = TileKey(
                    z: z, x: Int((c.x + 180) / 360 * Double(1 << z)),
                    y: Int(TileMatrixSet.webMercatorQuad.world(c.x, c.y).y * Double(1 << z)))
                let t = TileTransform(grid: .webMercatorQuad, key: key, extent: 4096)
                // The box as the resident layer's projected summary gives it.
                let lo = t.apply(ring.map(\.x).min()!, ring.map(\.y).min()!), hi = t.apply(ring.map(\.x).min()!, ring.map(\.y).max()!)
                let box = FeatureShapes.TileBox(west: lo.x, bottom: lo.y, top: hi.y)
                if !shapes.placement(i, t, box: box).exact { chords += 1 }
                let got = shapes.lines(i, t, box: box)[0]
                for (v, c) in zip(got, ring) {
                    let exact = t.apply(c.x, c.y)
                    // The chord's budget, plus the Float offsets' rounding (half an ulp of the
                    // feature's size) in tile units, which only shows for large features at z24.
                    let perDegree = Double(4096 << z) / 360 / cos(c.y * .pi / 180)
                    let slack = 0.05 + Double(Float(size(ring)).ulp) * perDegree
                    #expect(
                        abs(v.x - exact.x) <= slack && abs(v.y - exact.y) <= slack,
                        "z\(z) feature \(i): (\(v.x), \(v.y)) vs (\(exact.x), \(exact.y))")
                }
            }
        }
        #expect(chords > 100, "the chord should be used for small features")
    }

    private func values(_ a: FeatureAttributes, _ row: Int) -> [MVTValue?] {
        (0..<a.tables.count).map { a.value(field: $0, row: row) }
    }

    private func size(_ ring: [Coordinate]) -> Double {
        max(ring.map(\.x).max()! - ring.map(\.x).min()!, ring.map(\.y).max()! - ring.map(\.y).min()!)
    }

    /// Attribute values are interned byte for byte: equal strings share one entry, and two
    /// spellings that Swift calls equal (composed and decomposed é) stay apart, as in the data.
    @Test func attributesAreInternedByBytes() {
        var a = FeatureAttributes(fieldCount: 2)
        a.append([.string("水田"), .int(1)])
        a.append([.string("水田"), nil])
        a.append([.string("caf\u{E9}"), .double(2.5)])
        a.append([.string("cafe\u{301}"), .int(1)])
        a.seal()
        #expect(a.tables[0].count == 3 && a.tables[1].count == 2)
        #expect(values(a, 1) == [.string("水田"), nil])
        #expect(values(a, 3) == [.string("cafe\u{301}"), .int(1)])
        if case .string(let s)? = values(a, 2)[0] { #expect(Array(s.utf8) == Array("caf\u{E9}".utf8)) } else { Issue.record("no value") }
    }

    /// A field of serial numbers stops being interned (no lookups for nothing); a field of
    /// land classes stays interned; every feature's values read back the same either way.
    @Test func serialNumbersAreStoredDirectly() {
        var a = FeatureAttributes(fieldCount: 2)
        for i in 0..<5000 { a.append([.string("331126\(i)"), .string(["水田", "旱地", "水浇地"][i % 3])]) }
        a.seal()
        #expect(a.tables[0].count == 5000 && a.tables[1].count == 3)
        for i in [0, 1023, 1024, 4999] {
            #expect(values(a, i) == [.string("331126\(i)"), .string(["水田", "旱地", "水浇地"][i % 3])])
        }
    }
}
