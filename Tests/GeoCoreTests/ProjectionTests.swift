import Testing

@testable import GeoCore

struct ProjectionTests {
    /// On the central meridian (120°E) of Gauss–Krüger zone 40 the scale factor is 1, so the
    /// northing is the meridian arc from the equator, which GeographicLib gives independently:
    /// Geodesic(6378137, 1/298.257222101).Inverse(0, 120, 28, 120)['s12'] = 3098441.747296605.
    /// The easting is the false easting with the zone prefix: 40 500 000 m.
    @Test func zone40CentralMeridianBothWays() throws {
        let toGK = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4528")
        let p = try toGK.transform(Coordinate(120, 28))
        #expect(abs(p.x - 40_500_000) < 1e-6)
        #expect(abs(p.y - 3_098_441.747296605) < 1e-3)

        let toGeo = try CoordinateTransform(from: "EPSG:4528", to: "EPSG:4490")
        let q = try toGeo.transform(Coordinate(40_500_000, 3_098_441.747296605))
        #expect(abs(q.x - 120) < 1e-9)
        #expect(abs(q.y - 28) < 1e-9)
    }

    /// EPSG:4549 is the same zone without the prefix in the easting.
    @Test func zoneWithoutPrefixAndRoundTrip() throws {
        let a = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4528")
        let b = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4549")
        let lishui = Coordinate(119.9229, 28.4676)
        let pa = try a.transform(lishui), pb = try b.transform(lishui)
        #expect(abs(pa.x - 40_000_000 - pb.x) < 1e-6)
        #expect(abs(pa.y - pb.y) < 1e-6)
        let back = try CoordinateTransform(from: "EPSG:4549", to: "EPSG:4490").transform(pb)
        #expect(abs(back.x - lishui.x) < 1e-9 && abs(back.y - lishui.y) < 1e-9)
        #expect(pb.x < 500_000)  // west of the central meridian
    }

    @Test func unknownCRSCarriesPROJMessage() {
        #expect(throws: LibraryError.self) { try CoordinateTransform(from: "EPSG:999999", to: "EPSG:4490") }
        do {
            try CoordinateTransform.validate(crs: "EPSG:999999")
            Issue.record("expected an error")
        } catch let e as LibraryError {
            #expect(e.library == "PROJ")
            #expect(e.message.contains("999999"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
