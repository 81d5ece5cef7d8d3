import Foundation
import Testing

@testable import GeoCore

/// A site's area in the equal-area plane (`EqualAreaPlane.siteArea`) against Karney's geodesic
/// polygon area (`Ellipsoid.area`, itself checked against GeographicLib in EllipsoidTests), on
/// the shapes that reach the plane's limits: corridors 30 km long, digitised every 40–140 m,
/// and a park 4 km across. Each is measured by the plane (not handed to Karney), so the
/// comparison is of the two methods.
struct SiteAreaTests {
    /// A corridor `width` metres wide along a wandering centre line of `steps` steps of `step`
    /// metres from `start`: its left side out, its right side back.
    static func corridor(start: Coordinate, steps: Int, step: Double, width: Double, seed: UInt64) -> Geometry {
        var rng = seed
        func random() -> Double {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Double(rng >> 11) / Double(1 << 53)
        }
        let metresPerDegree = 111_320.0
        var p = start, heading = random() * 2 * .pi
        var left: [Coordinate] = [], right: [Coordinate] = []
        for _ in 0...steps {
            let east = 1 / (metresPerDegree * cos(p.y * .pi / 180)), north = 1 / metresPerDegree
            let (dx, dy) = (cos(heading), sin(heading))
            left.append(Coordinate(p.x - dy * width / 2 * east, p.y + dx * width / 2 * north))
            right.append(Coordinate(p.x + dy * width / 2 * east, p.y - dx * width / 2 * north))
            heading += (random() - 0.5) * 0.3
            p = Coordinate(p.x + dx * step * east, p.y + dy * step * north)
        }
        let ring = left + right.reversed() + [left[0]]
        return .polygon(Polygon([ring]))
    }

    func agree(_ g: Geometry, _ what: String) throws {
        let box = try #require(g.boundingBox)
        let plane = EqualAreaPlane(centre: Coordinate((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2))
        let inPlane = try #require(
            plane.area(g, spanLimitM: EqualAreaPlane.siteSpanLimitM, edgeLimitM: EqualAreaPlane.siteEdgeLimitM),
            "\(what) should be within the plane's limits")
        let karney = Ellipsoid.cgcs2000.area(g)
        #expect(EqualAreaPlane.siteArea(g) == inPlane)
        #expect(abs(inPlane - karney) < 1e-3, "\(what): plane \(inPlane) m², Karney \(karney) m²")
        #expect(abs(inPlane - karney) / karney < 1e-9, "\(what): plane \(inPlane) m², Karney \(karney) m²")
    }

    @Test func corridorsThirtyKilometresLong() throws {
        for seed in UInt64(1)...12 {
            let step = 40 + Double(seed % 4) * 33  // 40 to 139 m
            let g = Self.corridor(
                start: Coordinate(119.4 + Double(seed) * 0.05, 28.0 + Double(seed) * 0.04),
                steps: Int(30_000 / step), step: step, width: 30 + Double(seed % 6) * 10, seed: seed)
            try agree(g, "corridor \(seed)")
        }
    }

    @Test func aParkFourKilometresAcross() throws {
        // 180 vertices round a 2 km radius, 70 m apart, the radius wandering by ±15 %.
        var ring: [Coordinate] = []
        for k in 0..<180 {
            let angle = Double(k) / 180 * 2 * .pi
            let r = 2000 * (1 + 0.15 * sin(angle * 5))
            ring.append(Coordinate(119.92 + r * cos(angle) / (111_320 * cos(28.45 * .pi / 180)), 28.45 + r * sin(angle) / 111_320))
        }
        try agree(.polygon(Polygon([ring + [ring[0]]])), "park")
    }

    @Test func longEdgesGoToKarney() throws {
        // A 2 km square: its edges are longer than the plane takes, so Karney measures it.
        let square = [
            Coordinate(119.90, 28.40), Coordinate(119.92, 28.40), Coordinate(119.92, 28.418),
            Coordinate(119.90, 28.418), Coordinate(119.90, 28.40)
        ]
        let g = Geometry.polygon(Polygon([square]))
        #expect(
            EqualAreaPlane(centre: Coordinate(119.91, 28.409)).area(
                g, spanLimitM: EqualAreaPlane.siteSpanLimitM,
                edgeLimitM: EqualAreaPlane.siteEdgeLimitM) == nil)
        #expect(EqualAreaPlane.siteArea(g) == Ellipsoid.cgcs2000.area(g))
    }
}
