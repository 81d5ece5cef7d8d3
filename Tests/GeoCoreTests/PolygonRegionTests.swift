import Foundation
import FuzzSupport
import Testing

@testable import GeoCore

/// `PolygonRegion` may only call a box inside or outside when GEOS agrees; undecided boxes
/// go to the exact test, so "boundary" is always safe. Checked on shapes sites come in:
/// a wandering corridor, a ragged park with a hole, two parcels.
struct PolygonRegionTests {
    func agreesWithGEOS(_ polygons: [Polygon], seed: UInt64) throws -> (inside: Int, outside: Int, boundary: Int) {
        let region = try #require(PolygonRegion(polygons))
        let engine = GeometryEngine()
        let site = try engine.make(.multiPolygon(polygons)).unaryUnion()
        let prepared = try site.prepared()
        var rng = FuzzRandom(seed: seed)
        var counts = (inside: 0, outside: 0, boundary: 0)
        let b = region.box
        for _ in 0..<2000 {
            let w = (b.maxX - b.minX) * 0.02 * rng.double(0...1), h = (b.maxY - b.minY) * 0.02 * rng.double(0...1)
            let x = b.minX - w + (b.maxX - b.minX + w) * rng.double(0...1), y = b.minY - h + (b.maxY - b.minY + h) * rng.double(0...1)
            let box = BoundingBox(x, y, x + w, y + h)
            let square = try engine.make(
                .polygon(
                    Polygon([
                        [
                            Coordinate(x, y), Coordinate(x + w, y), Coordinate(x + w, y + h),
                            Coordinate(x, y + h), Coordinate(x, y)
                        ]
                    ])))
            switch region.placement(of: box) {
            case .inside:
                counts.inside += 1
                #expect(try prepared.containsProperly(square), "\(box) placed inside")
            case .outside:
                counts.outside += 1
                #expect(try !prepared.intersects(square), "\(box) placed outside")
            case .boundary:
                counts.boundary += 1
            }
            // The cover finds every box that meets the area.
            if let cover = region.cover(), try prepared.intersects(square) {
                #expect(cover.contains { $0.intersects(box) }, "\(box) meets the area but no cover box")
            }
        }
        return counts
    }

    @Test func aCorridorPlacesBoxesAsGEOSDoes() throws {
        let counts = try agreesWithGEOS(
            [TestSites.corridor(from: Coordinate(120, 28), steps: 400, step: 0.0005, width: 0.0006, seed: 1)], seed: 2)
        // Most boxes are decided without the exact test: the region is worth its cost.
        #expect(counts.outside > 1000 && counts.inside + counts.outside > 1500, "\(counts)")
        let cover = try #require(
            PolygonRegion([TestSites.corridor(from: Coordinate(120, 28), steps: 400, step: 0.0005, width: 0.0006, seed: 1)])?.cover())
        #expect(cover.count > 1)
    }

    @Test func aParkWithAHoleAndASecondParcel() throws {
        let second = Polygon([
            [
                Coordinate(120.02, 28.0), Coordinate(120.025, 28.0), Coordinate(120.025, 28.004),
                Coordinate(120.02, 28.004), Coordinate(120.02, 28.0)
            ]
        ])
        let counts = try agreesWithGEOS([TestSites.park(centre: Coordinate(120.01, 28.01), radius: 0.004, seed: 3), second], seed: 4)
        #expect(counts.inside > 250 && counts.outside > 250, "\(counts)")
    }

    @Test func boxesTouchingTheEdgeGoToTheExactTest() throws {
        let square = Polygon([[Coordinate(0, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 1), Coordinate(0, 0)]])
        let region = try #require(PolygonRegion([square]))
        #expect(region.placement(of: BoundingBox(0.2, 0.2, 0.8, 0.8)) == .inside)
        #expect(region.placement(of: BoundingBox(1, 0.2, 1.5, 0.8)) == .boundary)  // shares the edge x = 1
        #expect(region.placement(of: BoundingBox(0.2, 0, 0.8, 0.5)) == .boundary)
        #expect(region.placement(of: BoundingBox(1.0000001, 0.2, 1.5, 0.8)) == .outside)
        #expect(region.placement(of: BoundingBox(-1, -1, 2, 2)) == .boundary)  // holds the whole square
        #expect(PolygonRegion([Polygon([[Coordinate(0, 0), Coordinate(1, 0), Coordinate(0, 0)]])]) == nil)
    }
}
