import Testing

@testable import GeoCore

/// Reference values from GeographicLib's own Python implementation (geographiclib 2.x, PyPI),
/// independent of the C port inside PROJ that OneMap calls:
///   g = Geodesic(6378137, 1/298.257222101); p = g.Polygon(); p.AddPoint(lat, lon)…; p.Compute(False, True)
struct EllipsoidTests {
    let cgcs = Ellipsoid.cgcs2000

    @Test func areaOfADegreeBoxNearLishui() {
        let ring = [
            Coordinate(119.90, 28.40), Coordinate(119.95, 28.40), Coordinate(119.95, 28.45),
            Coordinate(119.90, 28.45), Coordinate(119.90, 28.40)
        ]
        let a = cgcs.area(Polygon([ring]))
        #expect(abs(a - 27_145_041.819345474) < 1e-3)
    }

    @Test func areaOfAParcelIgnoresOrientationAndClosure() {
        let open = [
            Coordinate(120.0000, 28.1000), Coordinate(120.0010, 28.1000),
            Coordinate(120.0012, 28.1009), Coordinate(120.0003, 28.1011)
        ]
        let expected = 10_618.179426372051
        #expect(abs(cgcs.area(Polygon([open])) - expected) < 1e-6)
        #expect(abs(cgcs.area(Polygon([open.reversed() + [open.last!]])) - expected) < 1e-6)
    }

    @Test func holesAreSubtracted() {
        let outer = [
            Coordinate(119.90, 28.40), Coordinate(119.95, 28.40), Coordinate(119.95, 28.45),
            Coordinate(119.90, 28.45), Coordinate(119.90, 28.40)
        ]
        let hole = [
            Coordinate(120.0000, 28.1000), Coordinate(120.0010, 28.1000),
            Coordinate(120.0012, 28.1009), Coordinate(120.0003, 28.1011)
        ].map { Coordinate($0.x - 0.08, $0.y + 0.32) }
        let a = cgcs.area(Polygon([outer, hole]))
        #expect(abs(a - (27_145_041.819345474 - cgcs.area(Polygon([hole])))) < 1e-3)
        #expect(a < 27_145_041.819345474 - 10_000)
    }

    @Test func geodesicDistanceAndLength() {
        let a = Coordinate(120.0, 28.1), b = Coordinate(120.001, 28.1)
        #expect(abs(cgcs.distance(a, b) - 98.2709148127347) < 1e-6)
        #expect(abs(cgcs.length(.lineString([a, b, a])) - 2 * 98.2709148127347) < 1e-6)
    }

    @Test func areaUnits() {
        #expect(abs(AreaUnit.mu(fromM2: 666.6666667) - 1) < 1e-6)
        #expect(AreaUnit.hectares(fromM2: 25_000) == 2.5)
    }
}
