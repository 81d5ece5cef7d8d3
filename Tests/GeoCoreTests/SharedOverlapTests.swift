import Foundation
import FuzzSupport
import Testing

@testable import GeoCore

/// `PolygonRegion.overlapArea(with:and:spanLimitM:)` against an independent answer: the site,
/// a parcel and a 图斑 overlaid in GEOS and measured with Karney's geodesic area. Pairs come
/// as in a land-use check: both across the site's edge, one inside it, concave, with holes,
/// in two parts, apart from each other while their boxes meet.
struct SharedOverlapTests {
    static let span = 20_000.0

    func karney(_ engine: GeometryEngine, site: EngineGeometry, _ a: [Polygon], _ b: [Polygon]) throws -> Double {
        let ab = try engine.make(.multiPolygon(a)).intersection(try engine.make(.multiPolygon(b)))
        let piece = try site.intersection(ab).value().parts(ofDimension: 2)
        return piece.isEmpty ? 0 : Ellipsoid.cgcs2000.area(piece)
    }

    /// A random feature near `centre`: sometimes with a hole, sometimes in two parts.
    func feature(_ rng: inout FuzzRandom, centre: Coordinate, radius: Double) -> [Polygon] {
        let points = rng.int(3...30)
        var parts = [
            BoundaryOverlapTests.parcel(&rng, centre: centre, radius: radius, points: points, hole: points >= 8 && rng.chance(0.3))
        ]
        if rng.chance(0.15) {
            let other = Coordinate(centre.x + radius * 3, centre.y - radius)
            parts.append(BoundaryOverlapTests.parcel(&rng, centre: other, radius: radius, points: rng.int(3...10), hole: false))
        }
        return parts
    }

    /// Random pairs around `site`, the second placed near the first; returns how many were
    /// summed, how many of those shared some area, and how many were refused.
    func agrees(site polygons: [Polygon], seed: UInt64, pairs: Int = 300) throws -> (summed: Int, sharing: Int, refused: Int) {
        let region = try #require(PolygonRegion(polygons))
        let engine = GeometryEngine()
        let site = try engine.make(.multiPolygon(polygons)).unaryUnion()
        var rng = FuzzRandom(seed: seed)
        let b = region.box
        var counts = (summed: 0, sharing: 0, refused: 0)
        for n in 0..<pairs {
            let radius = max(b.maxX - b.minX, b.maxY - b.minY) * rng.double(0.01...0.2)
            let centre = Coordinate(rng.double(b.minX...b.maxX), rng.double(b.minY...b.maxY))
            let a = feature(&rng, centre: centre, radius: radius)
            let near = Coordinate(centre.x + radius * rng.double(-1.2...1.2), centre.y + radius * rng.double(-1.2...1.2))
            let other = feature(&rng, centre: near, radius: radius * rng.double(0.3...2))
            let first = try #require(region.outline(a)), second = try #require(region.outline(other))
            guard let area = region.overlapArea(with: first, and: second, spanLimitM: Self.span) else {
                counts.refused += 1
                continue
            }
            counts.summed += 1
            let want = try karney(engine, site: site, a, other)
            if want > 0 { counts.sharing += 1 }
            #expect(abs(area - want) <= max(1e-4, 1e-6 * want), "pair \(n): summed \(area) m², overlaid \(want) m²")
            // The order of the two does not matter.
            let swapped = try #require(region.overlapArea(with: second, and: first, spanLimitM: Self.span))
            #expect(abs(swapped - area) <= max(1e-6, 1e-9 * area), "pair \(n): \(swapped) m² swapped, \(area) m²")
        }
        return counts
    }

    @Test func pairsAcrossACorridor() throws {
        let corridor = TestSites.corridor(from: Coordinate(119.9, 28.4), steps: 300, step: 0.0004, width: 0.0006, seed: 21)
        let counts = try agrees(site: [corridor], seed: 22)
        // Refusals are for a vertex within a centimetre of another's edge line, which random
        // shapes seldom have: a few in a hundred at most.
        #expect(counts.refused <= 10, "\(counts)")
        #expect(counts.sharing >= 40, "\(counts)")
    }

    @Test func pairsInAParkWithAHoleAndASecondPart() throws {
        let park = TestSites.park(centre: Coordinate(119.92, 28.45), radius: 0.006, seed: 23)
        let second = Polygon([
            [
                Coordinate(119.93, 28.44), Coordinate(119.935, 28.44), Coordinate(119.935, 28.443),
                Coordinate(119.93, 28.443), Coordinate(119.93, 28.44)
            ]
        ])
        let counts = try agrees(site: [park, second], seed: 24)
        #expect(counts.refused <= 10, "\(counts)")
        #expect(counts.sharing >= 40, "\(counts)")
    }

    /// Features the caller knows lie inside the site skip the search for crossings, and sum
    /// as those that were searched do.
    @Test func aFeatureKnownInsideSumsAsOneSearched() throws {
        let region = try #require(PolygonRegion([BoundaryOverlapTests.square]))
        let parcel = Polygon([
            [
                Coordinate(120.002, 28.002), Coordinate(120.006, 28.002), Coordinate(120.006, 28.006),
                Coordinate(120.002, 28.006), Coordinate(120.002, 28.002)
            ]
        ])
        let tuban = Polygon([
            [Coordinate(120.004, 28.001), Coordinate(120.012, 28.003), Coordinate(120.005, 28.009), Coordinate(120.004, 28.001)]
        ])
        let t = try #require(region.outline([tuban]))
        let parcelSearched = try #require(region.outline([parcel]))
        let parcelKnown = try #require(region.outline([parcel], inside: true))
        let searched = try #require(region.overlapArea(with: parcelSearched, and: t, spanLimitM: Self.span))
        let known = try #require(region.overlapArea(with: parcelKnown, and: t, spanLimitM: Self.span))
        let engine = GeometryEngine()
        let want = try karney(engine, site: try engine.make(.polygon(BoundaryOverlapTests.square)), [parcel], [tuban])
        #expect(want > 1000)
        #expect(abs(searched - want) <= 1e-6 * want && abs(known - want) <= 1e-6 * want, "\(searched), \(known) against \(want)")
    }

    /// A parcel drawn on its 图斑's boundary, as real 永久基本农田 often is: refused, for
    /// the overlay to answer.
    @Test func sharedEdgesAreLeftToTheOverlay() throws {
        let region = try #require(PolygonRegion([BoundaryOverlapTests.square]))
        let tuban = Polygon([
            [
                Coordinate(120.005, 28.002), Coordinate(120.015, 28.002), Coordinate(120.015, 28.006),
                Coordinate(120.005, 28.006), Coordinate(120.005, 28.002)
            ]
        ])
        let parcel = Polygon([
            [
                Coordinate(120.005, 28.003), Coordinate(120.012, 28.003), Coordinate(120.012, 28.005),
                Coordinate(120.005, 28.005), Coordinate(120.005, 28.003)
            ]
        ])
        let a = try #require(region.outline([parcel])), b = try #require(region.outline([tuban]))
        #expect(region.overlapArea(with: a, and: b, spanLimitM: Self.span) == nil)
    }

    @Test func pairsWhoseBoxesMissTheSiteShareNothing() throws {
        let region = try #require(PolygonRegion([BoundaryOverlapTests.square]))
        let a = Polygon([[Coordinate(120.02, 28), Coordinate(120.03, 28), Coordinate(120.03, 28.01), Coordinate(120.02, 28)]])
        let b = Polygon([[Coordinate(120.025, 28), Coordinate(120.035, 28), Coordinate(120.03, 28.01), Coordinate(120.025, 28)]])
        let first = try #require(region.outline([a])), second = try #require(region.outline([b]))
        #expect(region.overlapArea(with: first, and: second, spanLimitM: Self.span) == 0)
    }
}
