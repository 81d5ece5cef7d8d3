import Foundation
import FuzzSupport
import Testing

@testable import GeoCore

/// `PolygonRegion.overlapArea` against an independent answer: the feature overlaid with the
/// site in GEOS and measured with Karney's geodesic area. Features come as parcels do —
/// concave, with holes, in two parts, larger than the site — and sit across the site's edge,
/// inside it, outside it and around it.
struct BoundaryOverlapTests {
    static let span = 20_000.0

    /// A feature of `points` vertices whose radius wanders (0.4–1.2 × `radius`), with a
    /// hexagonal hole of 0.25 × `radius` when `hole`.
    static func parcel(_ rng: inout FuzzRandom, centre c: Coordinate, radius: Double, points: Int, hole: Bool) -> Polygon {
        var outer: [Coordinate] = []
        for k in 0..<points {
            let a = 2 * Double.pi * Double(k) / Double(points), r = radius * rng.double(0.4...1.2)
            outer.append(Coordinate(c.x + r * cos(a), c.y + r * sin(a)))
        }
        // Both orientations come in from files.
        if rng.chance(0.5) { outer.reverse() }
        var rings = [outer + [outer[0]]]
        if hole {
            let h = (0..<6).map { k -> Coordinate in
                let a = 2 * Double.pi * Double(k) / 6
                return Coordinate(c.x + radius * 0.25 * cos(a), c.y + radius * 0.25 * sin(a))
            }
            rings.append(h + [h[0]])
        }
        return Polygon(rings)
    }

    func karney(_ engine: GeometryEngine, site: EngineGeometry, _ feature: [Polygon]) throws -> Double {
        let piece = try site.intersection(try engine.make(.multiPolygon(feature))).value().parts(ofDimension: 2)
        return Ellipsoid.cgcs2000.area(piece)
    }

    /// Random features around `site`; returns how many were summed and how many refused.
    func agrees(site polygons: [Polygon], seed: UInt64, features: Int = 400) throws -> (summed: Int, refused: Int) {
        let region = try #require(PolygonRegion(polygons))
        let engine = GeometryEngine()
        let site = try engine.make(.multiPolygon(polygons)).unaryUnion()
        var rng = FuzzRandom(seed: seed)
        let b = region.box
        var counts = (summed: 0, refused: 0)
        for n in 0..<features {
            let radius = max(b.maxX - b.minX, b.maxY - b.minY) * rng.double(0.005...0.3)
            let centre = Coordinate(rng.double(b.minX...b.maxX), rng.double(b.minY...b.maxY))
            let points = rng.int(3...40)
            // A hole only where every edge of the outer ring stays clear of it.
            var feature = [Self.parcel(&rng, centre: centre, radius: radius, points: points, hole: points >= 8 && rng.chance(0.3))]
            if rng.chance(0.2) {
                let other = Coordinate(centre.x + radius * 3, centre.y - radius)
                feature.append(Self.parcel(&rng, centre: other, radius: radius, points: rng.int(3...12), hole: false))
            }
            let box = try #require(Geometry.multiPolygon(feature).boundingBox)
            guard let area = region.overlapArea(with: feature, box: box, spanLimitM: Self.span) else {
                counts.refused += 1
                continue
            }
            counts.summed += 1
            let want = try karney(engine, site: site, feature)
            #expect(abs(area - want) <= max(1e-4, 1e-6 * want), "feature \(n): summed \(area) m², overlaid \(want) m²")
        }
        return counts
    }

    @Test func aCorridorAndParcelsAcrossIt() throws {
        let corridor = TestSites.corridor(from: Coordinate(119.9, 28.4), steps: 300, step: 0.0004, width: 0.0006, seed: 11)
        let counts = try agrees(site: [corridor], seed: 12)
        // Refusals are for touching boundaries only, which random shapes almost never have.
        #expect(counts.refused <= 2, "\(counts)")
    }

    @Test func aParkWithAHoleAndASecondPart() throws {
        let park = TestSites.park(centre: Coordinate(119.92, 28.45), radius: 0.006, seed: 13)
        let second = Polygon([
            [
                Coordinate(119.93, 28.44), Coordinate(119.935, 28.44), Coordinate(119.935, 28.443),
                Coordinate(119.93, 28.443), Coordinate(119.93, 28.44)
            ]
        ])
        let counts = try agrees(site: [park, second], seed: 14)
        #expect(counts.refused <= 2, "\(counts)")
    }

    @Test func aClockwiseConcaveSite() throws {
        // An L given clockwise: the region orients its rings itself.
        let l = Polygon([
            [
                Coordinate(120, 28), Coordinate(120, 28.01), Coordinate(120.004, 28.01), Coordinate(120.004, 28.004),
                Coordinate(120.01, 28.004), Coordinate(120.01, 28), Coordinate(120, 28)
            ]
        ])
        let counts = try agrees(site: [l], seed: 15)
        #expect(counts.refused <= 2, "\(counts)")
    }

    static let square = Polygon([
        [
            Coordinate(120, 28), Coordinate(120.01, 28), Coordinate(120.01, 28.01),
            Coordinate(120, 28.01), Coordinate(120, 28)
        ]
    ])

    @Test func aFeatureHoldingTheSiteHasTheSitesArea() throws {
        let region = try #require(PolygonRegion([Self.square]))
        let around = Polygon([
            [
                Coordinate(119.99, 27.99), Coordinate(120.02, 27.99), Coordinate(120.02, 28.02),
                Coordinate(119.99, 28.02), Coordinate(119.99, 27.99)
            ]
        ])
        let area = try #require(region.overlapArea(with: [around], box: BoundingBox(119.99, 27.99, 120.02, 28.02), spanLimitM: Self.span))
        let want = Ellipsoid.cgcs2000.area(Self.square)
        #expect(abs(area - want) <= 1e-6 * want, "\(area) against \(want)")
    }

    @Test func aFeatureAwayFromTheSiteHasNone() throws {
        let region = try #require(PolygonRegion([Self.square]))
        let away = Polygon([[Coordinate(120.02, 28), Coordinate(120.03, 28), Coordinate(120.03, 28.01), Coordinate(120.02, 28)]])
        #expect(region.overlapArea(with: [away], box: BoundingBox(120.02, 28, 120.03, 28.01), spanLimitM: Self.span) == 0)
        // In the site's box but in its hole-free notch: a box that meets, an area that does not.
        let l = try #require(
            PolygonRegion([
                Polygon([
                    [
                        Coordinate(120, 28), Coordinate(120.01, 28), Coordinate(120.01, 28.002),
                        Coordinate(120.002, 28.002), Coordinate(120.002, 28.01), Coordinate(120, 28.01),
                        Coordinate(120, 28)
                    ]
                ])
            ]))
        let notch = Polygon([
            [Coordinate(120.005, 28.005), Coordinate(120.008, 28.005), Coordinate(120.008, 28.008), Coordinate(120.005, 28.005)]
        ])
        #expect(l.overlapArea(with: [notch], box: BoundingBox(120.005, 28.005, 120.008, 28.008), spanLimitM: Self.span) == 0)
    }

    @Test func sharedEdgesAreLeftToTheOverlay() throws {
        let region = try #require(PolygonRegion([Self.square]))
        // A neighbour sharing the site's east edge, and a parcel with a vertex on its north edge.
        let neighbour = Polygon([
            [
                Coordinate(120.01, 28.002), Coordinate(120.02, 28.002), Coordinate(120.02, 28.006),
                Coordinate(120.01, 28.006), Coordinate(120.01, 28.002)
            ]
        ])
        #expect(region.overlapArea(with: [neighbour], box: BoundingBox(120.01, 28.002, 120.02, 28.006), spanLimitM: Self.span) == nil)
        let touching = Polygon([
            [Coordinate(120.004, 28.01), Coordinate(120.006, 28.012), Coordinate(120.002, 28.012), Coordinate(120.004, 28.01)]
        ])
        #expect(region.overlapArea(with: [touching], box: BoundingBox(120.002, 28.01, 120.006, 28.012), spanLimitM: Self.span) == nil)
    }

    @Test func anOverlapWiderThanThePlaneHoldsIsRefused() throws {
        let big = Polygon([[Coordinate(119, 27), Coordinate(121, 27), Coordinate(121, 29), Coordinate(119, 29), Coordinate(119, 27)]])
        let region = try #require(PolygonRegion([big]))
        let across = Polygon([[Coordinate(118.5, 27.5), Coordinate(121.5, 27.5), Coordinate(121.5, 28.5), Coordinate(118.5, 27.5)]])
        #expect(region.overlapArea(with: [across], box: BoundingBox(118.5, 27.5, 121.5, 28.5), spanLimitM: Self.span) == nil)
    }
}
