import Foundation
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// A land-use layer's topology: overlapping 图斑 and gaps in the city, with areas and places;
/// 图斑 that only share an edge are neither.
struct LandUseTopologyTests {
    let box = ConflictFixtures.box

    /// Two counties side by side, 0.01° square each: 莲都 west of 120.010°, 青田 east of it.
    func twoCounties() throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        try f.layer(
            "admin", kind: .admin, rule: Rule(severity: .notice), fields: ["XZQMC", "level"],
            [
                ("331102", .polygon(box(120.000, 28.000, 120.010, 28.010)), ["莲都区", "county"]),
                ("331121", .polygon(box(120.010, 28.000, 120.020, 28.010)), ["青田县", "county"])
            ])
        return f
    }

    @Test func overlapsAndGapsAreFoundWithTheirAreasAndCounties() throws {
        let f = try twoCounties()
        try f.landUse(
            "landuse",
            [
                ("T1", box(120.000, 28.000, 120.006, 28.010), "0101", 0),  // over T2 by a strip
                ("T2", box(120.005, 28.000, 120.012, 28.010), "0301", 0),
                ("T3", box(120.013, 28.000, 120.020, 28.010), "0702", 0),
                ("T4", box(120.012, 28.000, 120.013, 28.005), "1101", 0)  // half the gap between T2 and T3
            ])
        let e = Ellipsoid.cgcs2000
        let report = try LandUseTopology(store: f.store).run(layer: "landuse")
        #expect(report.features == 4 && report.boundary.hasPrefix("admin"))
        let overlaps = report.overlaps, gaps = report.gaps
        #expect(overlaps.map(\.ids) == [["T1", "T2"]], "edges shared (T2–T4, T3–T4) are no overlap")
        let strip = e.area(box(120.005, 28.000, 120.006, 28.010))
        #expect(abs((overlaps.first?.areaM2 ?? 0) - strip) < 1e-6 * strip)
        #expect(overlaps.first?.county == "331102")
        let hole = e.area(box(120.012, 28.005, 120.013, 28.010))
        #expect(gaps.count == 1)
        #expect(abs(gaps.reduce(0) { $0 + $1.areaM2 } - hole) < 1e-6 * hole)
        #expect(gaps.first?.county == "331121" && gaps.first?.ids == [])
        #expect(try LandUseTopology(store: f.store).run(layer: "landuse", minimumAreaM2: 1e9).findings.isEmpty)
        #expect(throws: StoreError.self) { try LandUseTopology(store: f.store).run(layer: "admin") }
    }

    /// A layer whose 坐落单位代码 name one county is checked for gaps over that county alone:
    /// a county's own 三调 in a city's database does not report the other counties as bare.
    @Test func gapsAreLookedForInTheCountiesTheLayerNames() throws {
        let f = try twoCounties()
        // 莲都 covered but for a strip at its east edge; 青田 bare.
        try f.landUse(
            "landuse",
            [("T1", box(120.000, 28.000, 120.009, 28.010), "0101", 0)], units: ["331102001001"])
        let report = try LandUseTopology(store: f.store).run(layer: "landuse")
        #expect(report.boundary.contains("(331102)"), "\(report.boundary)")
        let strip = Ellipsoid.cgcs2000.area(box(120.009, 28.000, 120.010, 28.010))
        #expect(report.gaps.count == 1 && report.gaps.first?.county == "331102")
        #expect(abs(report.gaps.reduce(0) { $0 + $1.areaM2 } - strip) < 1e-6 * strip)
    }
}
