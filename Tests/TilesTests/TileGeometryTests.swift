import Foundation
import GeoCore
import Testing

@testable import Tiles

/// Geometry in one tile: orientation, clipping with a buffer, snapping without degenerate rings.
struct TileGeometryTests {
    static let grid = TileMatrixSet.webMercatorQuad

    /// The z-tile holding (120.05, 28.05).
    static func key(_ z: Int) -> TileKey {
        let r = grid.tiles(covering: BoundingBox(120.05, 28.05, 120.05, 28.05), z: z)
        return TileKey(z: z, x: r.x.lowerBound, y: r.y.lowerBound)
    }

    static func encoder(_ z: Int, grid: TileMatrixSet = grid) -> FeatureGeometryEncoder {
        let r = grid.tiles(covering: BoundingBox(120.05, 28.05, 120.05, 28.05), z: z)
        return FeatureGeometryEncoder(
            transform: TileTransform(grid: grid, key: TileKey(z: z, x: r.x.lowerBound, y: r.y.lowerBound), extent: 4096),
            buffer: 64, tolerance: 1)
    }

    static func decode(_ g: EncodedGeometry) throws -> DecodedFeature {
        var f = DecodedFeature()
        f.type = Int(g.type.rawValue)
        f.commands = g.commands
        f.parts = try decodeGeometry(g.commands, type: f.type)
        return f
    }

    /// GEOS's verdict on a decoded polygon feature, in tile coordinates (nil when valid).
    static func invalidity(_ f: DecodedFeature, engine: GeometryEngine) throws -> String? {
        for p in polygons(f) {
            let rings = p.map { ring in
                ring.map { Coordinate(Double($0.x), Double($0.y)) } + [Coordinate(Double(ring[0].x), Double(ring[0].y))]
            }
            if let reason = try engine.invalidityReason(try engine.make(.polygon(Polygon(rings)))) { return reason }
        }
        return nil
    }

    @Test func exteriorsArePositiveAndHolesNegativeWhateverTheInputOrientation() throws {
        let c = Coordinate(120.05, 28.05), d = 0.002
        let ccw = [
            Coordinate(c.x - d, c.y - d), Coordinate(c.x + d, c.y - d), Coordinate(c.x + d, c.y + d), Coordinate(c.x - d, c.y + d),
            Coordinate(c.x - d, c.y - d)
        ]
        let holeCCW = [
            Coordinate(c.x - d / 2, c.y - d / 2), Coordinate(c.x + d / 2, c.y - d / 2), Coordinate(c.x + d / 2, c.y + d / 2),
            Coordinate(c.x - d / 2, c.y + d / 2), Coordinate(c.x - d / 2, c.y - d / 2)
        ]
        for (exterior, hole) in [(ccw, holeCCW), (Array(ccw.reversed()), Array(holeCCW.reversed())), (ccw, Array(holeCCW.reversed()))] {
            for grid in [TileMatrixSet.webMercatorQuad, .cgcs2000Quad] {
                var enc = Self.encoder(14, grid: grid)
                var lost = LostArea()
                let g = try #require(enc.encode(.polygon(Polygon([exterior, hole])), lost: &lost))
                let f = try Self.decode(g)
                #expect(f.parts.count == 2)
                #expect(twiceArea(f.parts[0]) > 0, "exterior must have positive area in tile coordinates")
                #expect(twiceArea(f.parts[1]) < 0, "a hole must have negative area")
                #expect(polygons(f).count == 1)
            }
        }
    }

    /// A tile over its budget simplifies outlines from the shapes read back out of their
    /// commands: they must be the rings drawn, grouped into polygons and lines as drawn.
    @Test func partsReadBackFromTheCommandsAreTheShapesDrawn() throws {
        let c = Coordinate(120.05, 28.05), d = 0.002
        func square(_ x: Double, _ y: Double, _ h: Double) -> [Coordinate] {
            [
                Coordinate(x - h, y - h), Coordinate(x + h, y - h), Coordinate(x + h, y + h), Coordinate(x - h, y + h),
                Coordinate(x - h, y - h)
            ]
        }
        let polygons: [Geometry] = [
            .polygon(Polygon([square(c.x, c.y, d)])),
            .polygon(Polygon([square(c.x, c.y, d), square(c.x, c.y, d / 3)])),
            .multiPolygon([
                Polygon([square(c.x, c.y, d), square(c.x - d / 2, c.y, d / 5), square(c.x + d / 2, c.y, d / 5)]),
                Polygon([square(c.x + 4 * d, c.y, d)])
            ]),
            .multiLineString([
                [c, Coordinate(c.x + d, c.y + d / 3), Coordinate(c.x + 2 * d, c.y)],
                [Coordinate(c.x, c.y + d), Coordinate(c.x + d, c.y + d)]
            ])
        ]
        for g in polygons {
            var enc = Self.encoder(14)
            var lost = LostArea()
            let encoded = try #require(enc.encode(g, lost: &lost))
            let decoded = try Self.decode(encoded)
            #expect(
                encoded.parts.flatMap { $0 }.map { $0.map { [Int64($0.x), Int64($0.y)] } } == decoded.parts.map { $0.map { [$0.x, $0.y] } })
            if encoded.type == .polygon {
                // Each polygon starts with its exterior, the only ring of positive area.
                #expect(encoded.parts.count == g.polygons.count)
                for (polygon, source) in zip(encoded.parts, g.polygons) {
                    #expect(polygon.count == source.rings.count)
                    #expect(TileGeometry.twiceArea(polygon[0]) > 0 && polygon.dropFirst().allSatisfy { TileGeometry.twiceArea($0) < 0 })
                }
            } else {
                #expect(encoded.parts.map(\.count) == [1, 1])
            }
            // Simplifying at the finest tolerance draws the same shapes again.
            #expect(encoded.simplified(tolerance: 0.01).commands == encoded.commands)
        }
        // An overview's area box is not an outline: it stays as it is.
        var boxes = AreaBoxes(low: -64, high: 4160)
        let made = boxes.box(x0: 100, y0: 100, x1: 200, y1: 180, area: 4000)
        let box = try #require(made)
        #expect(!box.outlines && box.simplified(tolerance: 8).commands == box.commands)
    }

    @Test func polygonsAreClippedToTheBufferedTile() throws {
        var enc = Self.encoder(14)
        let tb = enc.transform.lonLatBox(buffer: 0)
        let big = Polygon([TileFixtures.box(tb.minX - 0.01, tb.minY - 0.01, tb.maxX + 0.01, tb.maxY + 0.01)])
        var lost = LostArea()
        let f = try Self.decode(try #require(enc.encode(.polygon(big), lost: &lost)))
        #expect(f.parts.count == 1)
        let xs = f.parts[0].map(\.x), ys = f.parts[0].map(\.y)
        #expect(xs.min() == -64 && xs.max() == 4160 && ys.min() == -64 && ys.max() == 4160)
        #expect(twiceArea(f.parts[0]) == 2 * 4224 * 4224)

        // Wholly outside the buffer: nothing.
        let far = Polygon([TileFixtures.box(tb.maxX + 0.01, tb.minY, tb.maxX + 0.02, tb.maxY)])
        #expect(enc.encode(.polygon(far), lost: &lost) == nil)
    }

    @Test func aConcavePolygonCutTwiceByTheEdgeIsStillValid() throws {
        // A "U" whose bottom lies outside the tile: plain Sutherland–Hodgman would join the two
        // arms by a zero-width bridge along the clip edge.
        var enc = Self.encoder(14)
        let tb = enc.transform.lonLatBox(buffer: 0)
        let w = tb.maxX - tb.minX, h = tb.maxY - tb.minY
        let x0 = tb.minX + w * 0.3, x1 = tb.minX + w * 0.7
        let bottom = tb.minY - h * 0.2, top = tb.minY + h * 0.5, inner = tb.minY - h * 0.05
        let u = Polygon([
            [
                Coordinate(x0, bottom), Coordinate(x1, bottom), Coordinate(x1, top), Coordinate(x1 - w * 0.1, top),
                Coordinate(x1 - w * 0.1, inner), Coordinate(x0 + w * 0.1, inner), Coordinate(x0 + w * 0.1, top),
                Coordinate(x0, top), Coordinate(x0, bottom)
            ]
        ])
        var lost = LostArea()
        let f = try Self.decode(try #require(enc.encode(.polygon(u), lost: &lost)))
        #expect(try Self.invalidity(f, engine: GeometryEngine()) == nil)
        #expect(polygons(f).count == 2, "the arms become two polygons")
        for ring in f.parts { for p in ring { #expect(p.y <= 4160) } }
    }

    @Test func linesAreClippedAndPointsOutsideTheBufferDropped() throws {
        var enc = Self.encoder(12)
        let tb = enc.transform.lonLatBox(buffer: 0)
        let midY = (tb.minY + tb.maxY) / 2
        let line = Geometry.lineString([Coordinate(tb.minX - 0.5, midY), Coordinate(tb.maxX + 0.5, midY)])
        var lost = LostArea()
        let f = try Self.decode(try #require(enc.encode(line, lost: &lost)))
        #expect(f.parts.count == 1 && f.parts[0].first?.x == -64 && f.parts[0].last?.x == 4160)

        let inside = Coordinate((tb.minX + tb.maxX) / 2, midY)
        let inBuffer = Coordinate(tb.maxX + (tb.maxX - tb.minX) * 10 / 4096, midY)
        let outside = Coordinate(tb.maxX + (tb.maxX - tb.minX) * 100 / 4096, midY)
        let p = try Self.decode(try #require(enc.encode(.multiPoint([inside, inBuffer, outside]), lost: &lost)))
        #expect(p.parts.count == 2)
        #expect(p.parts[1][0].x > 4096 && p.parts[1][0].x <= 4160)
    }

    @Test func snappingLeavesNoDegenerateOrInvalidRings() throws {
        // Jagged polygons with holes, at zooms where they span from a few to hundreds of units.
        var rng = SplitMix(11)
        let engine = GeometryEngine()
        var checked = 0
        for z in [10, 12, 13, 14, 16] {
            var enc = Self.encoder(z)
            let tb = enc.transform.lonLatBox(buffer: 0)
            for _ in 0..<300 {
                let cx = tb.minX + (tb.maxX - tb.minX) * rng.next(), cy = tb.minY + (tb.maxY - tb.minY) * rng.next()
                let r = 0.0002 + 0.002 * rng.next()
                let n = 5 + Int(rng.next() * 40)
                var ring: [Coordinate] = (0..<n).map { i in
                    let a = Double(i) / Double(n) * 2 * .pi, rr = r * (0.4 + 0.6 * rng.next())
                    return Coordinate(cx + rr * cos(a) * 1.13, cy + rr * sin(a))
                }
                ring.append(ring[0])
                var hole: [Coordinate] = (0..<8).map { i in
                    let a = -Double(i) / 8 * 2 * .pi
                    return Coordinate(cx + r * 0.15 * cos(a), cy + r * 0.15 * sin(a))
                }
                hole.append(hole[0])
                var lost = LostArea()
                guard let g = enc.encode(.polygon(Polygon([ring, hole])), lost: &lost) else { continue }
                let f = try Self.decode(g)  // the decoder rejects zero-length segments and short rings
                for part in f.parts {
                    #expect(part.count >= 3)
                    #expect(twiceArea(part) != 0)
                    #expect(Set(part.map { [$0.x, $0.y] }).count == part.count, "a ring repeats a vertex")
                }
                #expect(twiceArea(f.parts[0]) > 0)
                let reason = try Self.invalidity(f, engine: engine)
                #expect(reason == nil, "z\(z): \(reason ?? "")")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func partsOfAFeatureNeverOverlapOnceSnapped() throws {
        var enc = Self.encoder(16)
        let tb = enc.transform.lonLatBox(buffer: 0)
        let w = tb.maxX - tb.minX, h = tb.maxY - tb.minY
        func box(_ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Polygon {
            Polygon([TileFixtures.box(tb.minX + w * a, tb.minY + h * b, tb.minX + w * c, tb.minY + h * d)])
        }
        var lost = LostArea()
        // Two parts that overlap (as snapping or a repair can leave them): the larger stays.
        let overlapping = try Self.decode(
            try #require(enc.encode(.multiPolygon([box(0.1, 0.1, 0.3, 0.3), box(0.2, 0.2, 0.6, 0.6)]), lost: &lost)))
        #expect(polygons(overlapping).count == 1)
        #expect(try Self.invalidity(overlapping, engine: GeometryEngine()) == nil)
        #expect(twiceArea(overlapping.parts[0]) > 2 * 1600 * 1600)
        // Apart, both stay; an island inside the other's hole stays too.
        let apart = try Self.decode(
            try #require(enc.encode(.multiPolygon([box(0.1, 0.1, 0.3, 0.3), box(0.5, 0.5, 0.6, 0.6)]), lost: &lost)))
        #expect(polygons(apart).count == 2)
        var ring = box(0.1, 0.1, 0.9, 0.9)
        ring.rings.append(Array(TileFixtures.box(tb.minX + w * 0.3, tb.minY + h * 0.3, tb.minX + w * 0.7, tb.minY + h * 0.7).reversed()))
        let island = try Self.decode(try #require(enc.encode(.multiPolygon([ring, box(0.4, 0.4, 0.6, 0.6)]), lost: &lost)))
        #expect(polygons(island).count == 2)
    }

    @Test func tileMatrixSetsAreDocumentedOnes() {
        let m = TileMatrixSet.webMercatorQuad, g = TileMatrixSet.cgcs2000Quad
        #expect(m.matrixWidth(3) == 8 && m.matrixHeight(3) == 8)
        #expect(g.matrixWidth(1) == 2 && g.matrixHeight(1) == 1)
        #expect(g.matrixWidth(0) == 1 && g.matrixHeight(0) == 1)
        #expect(g.matrixWidth(10) == 1024 && g.matrixHeight(10) == 512)
        // 天地图 level 1: two tiles, west and east hemispheres.
        let east = g.bounds(of: TileKey(z: 1, x: 1, y: 0))
        #expect(east.minX == 0 && east.maxX == 180 && east.maxY == 90 && east.minY == -90)
        // A z14 Web Mercator tile over Lishui.
        let r = m.tiles(covering: BoundingBox(119.92, 28.45, 119.92, 28.45), z: 14)
        #expect(r.x.lowerBound == 13649 && r.y.lowerBound == 6840)
        #expect(!m.contains(TileKey(z: 3, x: 8, y: 0)) && !g.contains(TileKey(z: 3, x: 0, y: 4)) && g.contains(TileKey(z: 3, x: 7, y: 3)))
    }

    /// A ring is simplified as two polylines split at the point farthest from the first, the
    /// second closing back to the first: checked against exactly that, done the plain way
    /// (halves copied out and joined), on random wiggly rings at several tolerances.
    @Test func ringSimplificationIsDouglasPeuckerOnTwoHalves() {
        var rng = SplitMix(5)
        for _ in 0..<300 {
            let n = 5 + Int(rng.next() * 60)
            let ring = (0..<n).map { i -> TileVertex in
                let a = Double(i) / Double(n) * 2 * .pi, r = 100 + rng.next() * 40
                return TileVertex(x: 500 + r * cos(a), y: 500 + r * sin(a))
            }
            for tolerance in [0.5, 1, 4, 30] {
                var far = 0, best = -1.0
                for (i, p) in ring.enumerated() {
                    let d = (p.x - ring[0].x) * (p.x - ring[0].x) + (p.y - ring[0].y) * (p.y - ring[0].y)
                    if d > best { best = d; far = i }
                }
                let first = TileGeometry.simplify(Array(ring[0...far]), tolerance: tolerance)
                let second = TileGeometry.simplify(Array(ring[far...]) + [ring[0]], tolerance: tolerance)
                let expected = first + second.dropFirst().dropLast()
                let got = TileGeometry.simplifyRing(ring, tolerance: tolerance)
                #expect(got.map(\.x) == expected.map(\.x) && got.map(\.y) == expected.map(\.y), "n \(n), tolerance \(tolerance)")
            }
        }
    }
}
