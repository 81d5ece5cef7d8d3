import GeoCore
import Testing

@testable import Tiles

/// Overview zooms: small polygons drawn as their box shrunk to their area.
struct AreaBoxesTests {
    @Test func boxesKeepTheAreaAndStayInsideTheirBoundingBox() throws {
        var rng = SplitMix(11)
        var boxes = AreaBoxes(low: -64, high: 4160)
        var wanted = 0.0, drawn = 0.0, skipped = 0
        for _ in 0..<10_000 {
            let w = 3 + 90 * rng.next(), h = 3 + 90 * rng.next()
            let x0 = 100 + 3800 * rng.next(), y0 = 100 + 3800 * rng.next()
            // Parcels fill 30–100% of their bounding box.
            let area = w * h * (0.3 + 0.7 * rng.next())
            wanted += area
            let made = boxes.box(x0: x0, y0: y0, x1: x0 + w, y1: y0 + h, area: area)
            // A box whose area the rounding before it already drew is left out (its area counted).
            guard let g = made else { skipped += 1; continue }
            let ring = try #require(try decodeTile(Self.tile(g)).layers.first?.features.first?.parts.first)
            #expect(ring.count == 4)
            let xs = ring.map { Double($0.x) }, ys = ring.map { Double($0.y) }
            let bw = xs.max()! - xs.min()!, bh = ys.max()! - ys.min()!
            #expect(bw >= 1 && bh >= 1)
            #expect(bw * bh == g.area)
            // Within the bounding box, give or take the rounding to whole units.
            #expect(
                xs.min()! >= x0 - 1 && xs.max()! <= x0 + w + 1 && ys.min()! >= y0 - 1 && ys.max()! <= y0 + h + 1,
                "box \(xs.min()!)…\(xs.max()!) × \(ys.min()!)…\(ys.max()!) outside \(x0)…\(x0 + w) × \(y0)…\(y0 + h)")
            // The proportions of the bounding box, where the sides are long enough to show them.
            if w > 20 && h > 20 { #expect(abs(bw / bh - w / h) < 0.15 * (w / h) + 0.1) }
            drawn += g.area
        }
        // Each box is rounded, the rounding carried to the next: the total is off by less
        // than one box's worth, not by the sum of 10,000 roundings.
        #expect(abs(drawn - wanted) < 200, "drawn \(drawn) of \(wanted)")
        #expect(skipped < 20)
    }

    @Test func boxesAreCutAtTheWindowAndThoseOutsideAreLeftOut() throws {
        var boxes = AreaBoxes(low: -64, high: 4160)
        let made = boxes.box(x0: -100, y0: 10, x1: -20, y1: 50, area: 3200)
        let cut = try #require(made)
        let ring = try #require(try decodeTile(Self.tile(cut)).layers.first?.features.first?.parts.first)
        #expect(ring.map(\.x).min() == -64 && ring.map(\.x).max() == -20)
        let outside = boxes.box(x0: -300, y0: 10, x1: -200, y1: 50, area: 4000)
        let flat = boxes.box(x0: 10, y0: 10, x1: 10, y1: 50, area: 10)
        #expect(outside == nil)
        #expect(flat == nil, "no width, no box")
    }

    static func tile(_ g: EncodedGeometry) -> [UInt8] {
        var layer = MVTLayerBuilder(name: "t", extent: 4096)
        layer.addFeature(id: 1, type: g.type, geometry: g.commands, tags: [])
        return layer.encoded()
    }

    /// A 60 m × 40 m parcel is ~28 × 19 units at z12: a box with its id and no attributes;
    /// at z13 it is an outline with its attributes. A large polygon keeps its outline at z12.
    @Test func smallPolygonsAreBoxesAtOverviewZoomsOnly() throws {
        let fx = try TileFixtures()
        let small = TileFixtures.box(120.0, 28.0, 120.0 + 60 / 98_300.0, 28.0 + 40 / 110_850.0)
        let large = TileFixtures.box(120.01, 28.0, 120.02, 28.01)
        try fx.layer("zones", [(.polygon(Polygon([small])), [.text("S")]), (.polygon(Polygon([large])), [.text("L")])])
        let ids = try fx.store.pool.read { db in
            try ["S", "L"].map { try Int64.fetchOne(db, sql: "SELECT om_fid FROM lyr_zones_1 WHERE om_id = ?", arguments: [$0])! }
        }
        let service = TileService(store: fx.store)
        for z in [12, 13] {
            let key = StoreTileTests.keys(BoundingBox(120.0, 28.0, 120.0, 28.0), z: z)[0]
            let layer = try #require(try decodeTile(service.tile(.layers(["zones"]), key, grid: StoreTileTests.grid).bytes).layer("zones"))
            let s = try #require(layer.features.first { $0.id == UInt64(ids[0]) }, "z\(z): the small parcel keeps its id")
            let l = try #require(layer.features.first { $0.id == UInt64(ids[1]) })
            #expect(l.properties["BSM"] == .string("L"))
            if z == 12 {
                #expect(s.properties.isEmpty)
                #expect(s.parts.count == 1 && s.parts[0].count == 4)
            } else {
                #expect(s.properties["BSM"] == .string("S"))
            }
            // Either way it covers the parcel's area (tile units²) within a few percent.
            let t = TileTransform(grid: StoreTileTests.grid, key: key, extent: 4096)
            let a = t.apply(small[0].x, small[2].y), b = t.apply(small[2].x, small[0].y)
            let truth = (b.x - a.x) * (b.y - a.y)
            let ring = s.parts[0].map { Coordinate(Double($0.x), Double($0.y)) }
            var twice = 0.0
            for i in ring.indices { let p = ring[i], q = ring[(i + 1) % ring.count]; twice += p.x * q.y - q.x * p.y }
            #expect(abs(abs(twice) / 2 - truth) < 0.06 * truth, "z\(z): drawn \(abs(twice) / 2) vs \(truth)")
        }
    }
}
