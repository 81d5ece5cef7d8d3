import Foundation
import Testing

@testable import GeoCore

/// The equal-area plane against GeographicLib's geodesic polygon areas (geographiclib 2.1,
/// PyPI, the Python implementation, not the C port inside PROJ):
///   g = Geodesic(6378137, 1/298.257222101); p = g.Polygon(); p.AddPoint(lat, lon)…; p.Compute(False, True)
/// A conflict check measures its clipped pieces with the plane, so it must agree with what
/// PostGIS's `ST_Area(geography)` (the same algorithm) says, far inside the 1e-6 the answers
/// are held to.
struct EqualAreaPlaneTests {
    let parcel = [
        Coordinate(120.0000, 28.1000), Coordinate(120.0010, 28.1000),
        Coordinate(120.0012, 28.1009), Coordinate(120.0003, 28.1011)
    ]
    let parcelArea = 10_618.179426372051

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / b }

    @Test func aParcelNearTheCentre() throws {
        let plane = EqualAreaPlane(centre: Coordinate(120.0006, 28.1005))
        let a = try #require(plane.area(.polygon(Polygon([parcel])), spanLimitM: 3000))
        #expect(relative(a, parcelArea) < 2e-9)
        // Orientation and closure do not matter.
        let reversed = try #require(plane.area(.polygon(Polygon([parcel.reversed() + [parcel.last!]])), spanLimitM: 3000))
        #expect(relative(reversed, parcelArea) < 2e-9)
    }

    @Test func equalAreaAwayFromTheCentreToo() throws {
        // 45 km east of the parcel: the projection is equal-area everywhere, only the edges'
        // curvature differs from geodesics, and for 100 m edges that stays far below 1e-6.
        let plane = EqualAreaPlane(centre: Coordinate(120.45, 28.1))
        let a = try #require(plane.area(.multiPolygon([Polygon([parcel])]), spanLimitM: 3000))
        #expect(relative(a, parcelArea) < 1e-8)
    }

    @Test func aRotatedSiteWithAHole() throws {
        // A 300 m × 200 m rectangle turned by 0.4 rad near Lishui, with a 60 m × 40 m hole.
        let outer = [
            Coordinate(119.898986298, 28.44863875), Coordinate(119.901809438, 28.449695287),
            Coordinate(119.901013702, 28.45136125), Coordinate(119.898190562, 28.450304713),
            Coordinate(119.898986298, 28.44863875)
        ]
        let hole = [
            Coordinate(119.90009726, 28.44972775), Coordinate(119.900661888, 28.449939057),
            Coordinate(119.90050274, 28.45027225), Coordinate(119.899938112, 28.450060943)
        ]
        let plane = EqualAreaPlane(centre: Coordinate(119.901, 28.4495))
        let a = try #require(plane.area(.polygon(Polygon([outer, hole])), spanLimitM: 3000))
        #expect(relative(a, 60_182.606411129236 - 2_407.307835370302) < 2e-9)
        // Not just any plausible number: the hole is subtracted.
        #expect(a < 60_182.606411129236 - 2_000)
    }

    @Test func aLongEdgeBowsAndIsCorrected() throws {
        // A triangle 400 m along a parallel and 3 m high: its long edge's geodesic bows away
        // from the straight line in the projection by ~1.8e-3 m², which without the bow term
        // would be 3e-6 relative, over the 1e-6 the answers are held to.
        let triangle = [Coordinate(119.9, 28.45), Coordinate(119.90408679380137, 28.45), Coordinate(119.90204339690068, 28.450027131151987)]
        let plane = EqualAreaPlane(centre: Coordinate(119.9, 28.45))
        let a = try #require(plane.area(.polygon(Polygon([triangle])), spanLimitM: 600))
        #expect(abs(a - 601.4857387542725) < 2e-5)
        let reversed = try #require(plane.area(.polygon(Polygon([triangle.reversed()])), spanLimitM: 600))
        #expect(abs(reversed - 601.4857387542725) < 2e-5)
    }

    @Test func refusesWhatIsTooWide() {
        // The 0.05° box (about 4.9 km × 5.5 km) of EllipsoidTests: wider than the limit, so
        // the caller measures it with Karney's geodesic area instead.
        let box = [
            Coordinate(119.90, 28.40), Coordinate(119.95, 28.40), Coordinate(119.95, 28.45),
            Coordinate(119.90, 28.45), Coordinate(119.90, 28.40)
        ]
        let plane = EqualAreaPlane(centre: Coordinate(119.925, 28.425))
        #expect(plane.area(.polygon(Polygon([box])), spanLimitM: 3000) == nil)
        // With a wider limit it is measured, and still within 2e-7 of GeographicLib.
        if let a = plane.area(.polygon(Polygon([box])), spanLimitM: 10_000) {
            #expect(relative(a, 27_145_041.819345474) < 2e-7)
        } else {
            Issue.record("a 5 km box within a 10 km limit was refused")
        }
    }

    /// Near the centre `project` uses series for sin, cos and log; they must give what the
    /// library's functions give, to rounding, over the whole range it uses them for, at
    /// Lishui's latitude and at the extremes of the ellipsoid.
    @Test func theSeriesProjectionIsTheLibrarysToRounding() {
        var rng = SystemRandomNumberGenerator()
        for centre in [Coordinate(119.9, 28.4), Coordinate(10, -80), Coordinate(-170, 0.3), Coordinate(45, 89.0)] {
            let plane = EqualAreaPlane(centre: centre)
            let reach = EqualAreaPlane.smallAngle * 180 / .pi
            for _ in 0..<2000 {
                let c = Coordinate(
                    centre.x + Double.random(in: -reach...reach, using: &rng),
                    min(90, centre.y + Double.random(in: -reach...reach, using: &rng)))
                let fast = plane.project(c), exact = plane.projectFar(c)
                // The formula's own rounding: 1e-12 of the distance from the centre (its last
                // step takes the difference of two near-equal terms), plus what the last bits
                // of sin φ move the point north, about a·ε/cos φ (a nanometre at Lishui, more
                // towards the poles, where sin φ hardly changes).
                let reachM = (exact.x * exact.x + exact.y * exact.y).squareRoot()
                let tolerance = 1e-12 * reachM + 4 * 6_378_137 * Double.ulpOfOne / cos(c.y * .pi / 180)
                #expect(abs(fast.x - exact.x) < tolerance && abs(fast.y - exact.y) < tolerance, "\(c): \(fast) vs \(exact)")
            }
        }
        // Beyond the small angles, the library's functions themselves.
        let plane = EqualAreaPlane(centre: Coordinate(119.9, 28.4))
        let far = Coordinate(121.5, 30.5)
        #expect(plane.project(far) == plane.projectFar(far))
    }

    @Test func linesHaveNoArea() {
        let plane = EqualAreaPlane(centre: Coordinate(120, 28.1))
        #expect(plane.area(.lineString(parcel), spanLimitM: 3000) == 0)
    }
}
