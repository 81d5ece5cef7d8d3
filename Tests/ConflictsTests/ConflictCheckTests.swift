import Foundation
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// Hand-computed cases. Expected areas are GeographicLib's (Python geographiclib 2.x,
/// Geodesic(6378137, 1/298.257222101).Polygon) for the boxes named in each test.
struct ConflictCheckTests {
    static let boxP = 10_900.358654737473  // [120.000, 120.001] × [28.000, 28.001]
    static let halfP = 5_450.179327338934  // [120.0005, 120.001] × [28.000, 28.001]
    static let outsideBox = 10_900.309132635593  // [120.002, 120.003] × [28.0005, 28.0015]
    let box = ConflictFixtures.box
    let forbidden = Rule(severity: .forbidden)

    func farmland(_ f: ConflictFixtures) throws {
        try f.layer(
            "farmland", rule: forbidden,
            [
                ("P", .polygon(box(120.000, 28.000, 120.001, 28.001)), []),
                ("Q", .polygon(box(120.003, 28.000, 120.004, 28.001)), [])
            ])
    }

    @Test func siteOverOneParcel() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        let r = try f.check([box(119.9995, 27.9995, 120.0015, 28.0015)])
        #expect(r.verdict == .forbidden)
        let l = try #require(r.layer("farmland"))
        #expect(l.conflict && l.features.map(\.id) == ["P"])
        #expect(abs(l.overlapAreaM2 - Self.boxP) < 1e-6)
        #expect(abs(l.features[0].overlapAreaM2 - Self.boxP) < 1e-6)
        #expect(abs(l.overlapRatio - Self.boxP / r.site.areaM2) < 1e-12)
        #expect(l.features[0].severity == .forbidden)
        #expect(abs(r.site.areaMu - r.site.areaM2 * 15 / 10_000) < 1e-9)
    }

    @Test func touchingAlongAnEdgeIsNoConflict() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        let r = try f.check([box(120.001, 28.000, 120.002, 28.001)])
        #expect(r.verdict == .clear)
        #expect(r.layer("farmland")?.features.isEmpty == true)
        #expect(r.layer("farmland")?.overlapAreaM2 == 0)
    }

    @Test func aHoleInTheSiteExcludesAParcel() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        var site = box(119.999, 27.999, 120.005, 28.002)
        site.rings.append(Array(box(119.9995, 27.9995, 120.0015, 28.0015).rings[0].reversed()))
        let r = try f.check([site])
        #expect(r.layer("farmland")?.features.map(\.id) == ["Q"])
    }

    @Test func twoParcelSite() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        let r = try f.check([box(119.9995, 27.9995, 120.0015, 28.0015), box(120.0025, 27.9995, 120.0045, 28.0015)])
        let l = try #require(r.layer("farmland"))
        #expect(Set(l.features.map(\.id)) == ["P", "Q"])
        let q = Ellipsoid.cgcs2000.area(box(120.003, 28.000, 120.004, 28.001))
        #expect(abs(l.overlapAreaM2 - (Self.boxP + q)) < 1e-6)
    }

    @Test func featureCrossingTheSiteEdge() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        let r = try f.check([box(120.0005, 27.999, 120.002, 28.002)])
        let l = try #require(r.layer("farmland"))
        #expect(l.features.map(\.id) == ["P"])
        #expect(abs(l.features[0].overlapAreaM2 - Self.halfP) < 1e-6)
    }

    @Test func overlappingFeaturesAreNotCountedTwice() throws {
        let f = try ConflictFixtures()
        try f.layer(
            "redline", kind: .ecologicalRedline, rule: forbidden,
            [
                ("A", .polygon(box(120.000, 28.000, 120.002, 28.001)), []),
                ("B", .polygon(box(120.001, 28.000, 120.003, 28.001)), [])
            ])
        let r = try f.check([box(119.999, 27.999, 120.004, 28.002)])
        let l = try #require(r.layer("redline"))
        #expect(l.features.count == 2)
        let union = Ellipsoid.cgcs2000.area(box(120.000, 28.000, 120.003, 28.001))
        // The union has extra vertices on its edges, so its geodesic edges differ by micrometres.
        #expect(abs(l.overlapAreaM2 - union) / union < 1e-9)
        #expect(l.features.reduce(0) { $0 + $1.overlapAreaM2 } > union + 10_000)
    }

    /// A north–south pipeline east of the site; the nearest point is its north end.
    func pipeline(at metres: Double) throws -> CheckResult {
        let f = try ConflictFixtures()
        let edge = 120.001, lat = 28.0006
        var lo = 0.0, hi = 0.001
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if Ellipsoid.cgcs2000.distance(Coordinate(edge, lat), Coordinate(edge + mid, lat)) < metres { lo = mid } else { hi = mid }
        }
        let x = edge + (lo + hi) / 2
        try f.layer(
            "pipeline", kind: .pipeline, rule: Rule(severity: .forbidden, bufferM: 5), geometryType: "LineString",
            [("GD1", .lineString([Coordinate(x, 28.0004), Coordinate(x, lat)]), [])])
        return try f.check([box(120.000, 28.000, edge, 28.001)])
    }

    @Test func pipelineAt4point9MetresConflicts() throws {
        let r = try pipeline(at: 4.9)
        let l = try #require(r.layer("pipeline"))
        #expect(r.verdict == .forbidden && l.conflict)
        let d = try #require(l.features.first?.minDistanceM)
        #expect(abs(d - 4.9) < 0.001)
        #expect(l.features.first?.lengthM == 0)
        #expect(l.overlapAreaM2 > 0, "part of the site is in the 5 m corridor")
        // The one feature's overlap is the part of the site in its corridor: the layer's.
        #expect(abs((l.features.first?.overlapAreaM2 ?? 0) - l.overlapAreaM2) < 1e-9, "\(l.features.first?.overlapAreaM2 ?? -1)")
    }

    @Test func pipelineAt5point1MetresIsClear() throws {
        let r = try pipeline(at: 5.1)
        #expect(r.verdict == .clear)
        #expect(r.layer("pipeline")?.features.isEmpty == true)
    }

    @Test func pipelineCrossingReportsLengthInside() throws {
        let f = try ConflictFixtures()
        try f.layer(
            "pipeline", kind: .pipeline, rule: Rule(severity: .forbidden, bufferM: 5), geometryType: "LineString",
            [("GD1", .lineString([Coordinate(119.999, 28.0005), Coordinate(120.002, 28.0005)]), [])])
        let r = try f.check([box(120.000, 28.000, 120.001, 28.001)])
        let feature = try #require(r.layer("pipeline")?.features.first)
        #expect(feature.minDistanceM == 0)
        let expected = Ellipsoid.cgcs2000.distance(Coordinate(120.000, 28.0005), Coordinate(120.001, 28.0005))
        #expect(abs((feature.lengthM ?? 0) - expected) < 1e-3)
    }

    /// A pipeline 22 km long with a vertex every 110 m, running north–south 4.9 m east of the
    /// site: only its segments near the site are measured and buffered, and that must give
    /// the same distance and the whole corridor strip along the site's east edge.
    @Test func aLongPipelineIsMeasuredWhereItPassesTheSite() throws {
        let f = try ConflictFixtures()
        let edge = 120.001, lat = 28.0005
        var lo = 0.0, hi = 0.001
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if Ellipsoid.cgcs2000.distance(Coordinate(edge, lat), Coordinate(edge + mid, lat)) < 4.9 { lo = mid } else { hi = mid }
        }
        let x = edge + (lo + hi) / 2
        let line = stride(from: 27.9, through: 28.1, by: 0.001).map { Coordinate(x, $0) }
        try f.layer(
            "pipeline", kind: .pipeline, rule: Rule(severity: .forbidden, bufferM: 5), geometryType: "LineString",
            [("GD1", .lineString(line), [])])
        let r = try f.check([box(120.000, 28.000, edge, 28.001)])
        let l = try #require(r.layer("pipeline"))
        let feature = try #require(l.features.first)
        #expect(abs((feature.minDistanceM ?? 0) - 4.9) < 0.001)
        #expect(feature.lengthM == 0)
        // The corridor covers a 0.1 m strip along the whole east edge (110.9 m): no end cap
        // of a cut-down line may shorten it.
        let edgeLength = Ellipsoid.cgcs2000.distance(Coordinate(edge, 28.000), Coordinate(edge, 28.001))
        #expect(abs(l.overlapAreaM2 - 0.1 * edgeLength) < 0.01 * 0.1 * edgeLength, "\(l.overlapAreaM2)")
        #expect(abs(feature.overlapAreaM2 - l.overlapAreaM2) < 1e-9)
    }

    /// Two pipelines, one 4.9 m east of the site and one crossing it: each reports the part of
    /// the site in its own corridor, and the layer the part in either, counted once.
    @Test func eachBufferedFeatureReportsTheSiteInItsCorridor() throws {
        let f = try ConflictFixtures()
        let edge = 120.001
        // 4.9 m east of the east edge, in degrees of longitude at 28.0005°.
        let east = edge + 4.9 / (Ellipsoid.cgcs2000.distance(Coordinate(edge, 28.0005), Coordinate(edge + 0.001, 28.0005)) / 0.001)
        try f.layer(
            "pipeline", kind: .pipeline, rule: Rule(severity: .forbidden, bufferM: 5), geometryType: "LineString",
            [
                ("EAST", .lineString([Coordinate(east, 27.999), Coordinate(east, 28.002)]), []),
                ("CROSS", .lineString([Coordinate(119.999, 28.0005), Coordinate(120.002, 28.0005)]), [])
            ])
        let l = try #require(try f.check([box(120.000, 28.000, edge, 28.001)]).layer("pipeline"))
        let byId = Dictionary(uniqueKeysWithValues: l.features.map { ($0.id, $0.overlapAreaM2) })
        let height = Ellipsoid.cgcs2000.distance(Coordinate(edge, 28.000), Coordinate(edge, 28.001))
        let width = Ellipsoid.cgcs2000.distance(Coordinate(120.000, 28.0005), Coordinate(edge, 28.0005))
        // EAST: a 0.1 m strip along the east edge; CROSS: a 10 m band across the whole site.
        #expect(abs((byId["EAST"] ?? 0) - 0.1 * height) < 0.02 * 0.1 * height, "\(byId)")
        #expect(abs((byId["CROSS"] ?? 0) - 10 * width) < 0.01 * 10 * width, "\(byId)")
        // Where the band meets the strip (0.1 m × 10 m) the layer counts it once.
        #expect(l.overlapAreaM2 < (byId["EAST"] ?? 0) + (byId["CROSS"] ?? 0))
        #expect(abs(l.overlapAreaM2 - ((byId["EAST"] ?? 0) + (byId["CROSS"] ?? 0) - 0.1 * 10)) < 0.05, "\(l.overlapAreaM2)")
    }

    /// Without pieces a corridor's share of the site is summed along its boundary; with them
    /// it is overlaid. Both must give the same areas, for one corridor (the feature's share is
    /// the layer's) and for two that meet (the layer's is their union's).
    @Test func corridorAreasAreTheSameSummedOrOverlaid() throws {
        let f = try ConflictFixtures()
        try f.layer(
            "pipeline", kind: .pipeline, rule: Rule(severity: .forbidden, bufferM: 5), geometryType: "LineString",
            [
                ("DIAG", .lineString([Coordinate(119.9995, 27.9997), Coordinate(120.0013, 28.0012)]), []),
                ("CROSS", .lineString([Coordinate(119.999, 28.0005), Coordinate(120.002, 28.0005)]), [])
            ])
        for sites in [[box(120.000, 28.000, 120.001, 28.001)], [box(120.0002, 28.0001, 120.0009, 28.0009)]] {
            let overlaid = try #require(try f.check(sites, keepPieces: true).layer("pipeline"))
            let summed = try #require(try f.check(sites, keepPieces: false).layer("pipeline"))
            #expect(overlaid.overlapAreaM2 > 0)
            #expect(abs(summed.overlapAreaM2 - overlaid.overlapAreaM2) < 1e-6 * overlaid.overlapAreaM2, "\(summed.overlapAreaM2)")
            #expect(summed.features.map(\.id) == overlaid.features.map(\.id))
            for (a, b) in zip(summed.features, overlaid.features) {
                #expect(abs(a.overlapAreaM2 - b.overlapAreaM2) < 1e-6 * max(b.overlapAreaM2, 1e-3), "\(a.id): \(a.overlapAreaM2)")
            }
        }
    }

    /// One checker across a reload, as the server keeps one: the next check reads the new
    /// version, however its cached plans and layer signature were kept.
    @Test func aReloadIsSeenByTheNextCheckOfTheSameChecker() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        let site = try Site.make(polygons: [(box(119.9995, 27.9995, 120.0015, 28.0015), "site")], crs: nil, limits: SiteLimits())
        let checker = ConflictChecker(store: f.store)
        for _ in 0..<3 {  // enough checks that the memo is in use on the reader
            #expect(try checker.check(site).result.layer("farmland")?.features.map(\.id) == ["P"])
        }
        try f.layer("farmland", rule: forbidden, [("R", .polygon(box(120.0005, 28.000, 120.001, 28.001)), [])])
        let after = try checker.check(site)
        #expect(after.result.layer("farmland")?.features.map(\.id) == ["R"])
        #expect(abs((after.result.layer("farmland")?.overlapAreaM2 ?? 0) - Self.halfP) < 1e-6)
        #expect(after.versions["farmland"]?.version == 2)
    }

    @Test func byFieldSeverities() throws {
        let f = try ConflictFixtures()
        // A value the table does not name takes `otherwise` (a load without it refuses such a value).
        let rule = Rule(
            severity: .restricted,
            byField: .init(
                field: "GNFQ", values: ["核心区": .forbidden, "实验区": .restricted],
                otherwise: .notice))
        try f.layer(
            "reserve", kind: .protectedArea, rule: rule, fields: ["GNFQ"],
            [
                ("CORE", .polygon(box(120.000, 28.000, 120.001, 28.001)), ["核心区"]),
                ("EXP", .polygon(box(120.002, 28.000, 120.003, 28.001)), ["实验区"]),
                ("ODD", .polygon(box(120.004, 28.000, 120.005, 28.001)), ["未分区"])
            ])
        let experimental = try f.check([box(120.0021, 28.0001, 120.0029, 28.0009)])
        #expect(experimental.verdict == .restricted)
        #expect(experimental.layer("reserve")?.features.first?.properties["GNFQ"] == .text("实验区"))
        let core = try f.check([box(120.0001, 28.0001, 120.0029, 28.0009)])
        #expect(core.verdict == .forbidden)
        #expect(core.layer("reserve")?.severity == .forbidden)
        #expect(Set(core.layer("reserve")!.features.map { "\($0.id)=\($0.severity!.rawValue)" }) == ["CORE=forbidden", "EXP=restricted"])
        let unknown = try f.check([box(120.0041, 28.0001, 120.0049, 28.0009)])
        #expect(unknown.layer("reserve")?.features.first?.severity == .notice)
    }

    @Test func outsideRule() throws {
        let f = try ConflictFixtures()
        try f.layer(
            "urban", kind: .urbanBoundary, rule: Rule(severity: .restricted, when: .outside),
            [("U", .polygon(box(120.000, 28.000, 120.002, 28.002)), [])])
        let r = try f.check([box(120.001, 28.0005, 120.003, 28.0015)])
        let l = try #require(r.layer("urban"))
        #expect(r.verdict == .restricted && l.conflict)
        #expect(abs((l.outsideAreaM2 ?? 0) - Self.outsideBox) < 1e-4)
        let inside = try f.check([box(120.0005, 28.0005, 120.0015, 28.0015)])
        #expect(inside.verdict == .clear)
        #expect((inside.layer("urban")?.outsideAreaM2 ?? 1) < 0.01)
    }

    @Test func unknownLayerIsAnError() throws {
        let f = try ConflictFixtures()
        try farmland(f)
        #expect(throws: StoreError.self) { try f.check([box(120, 28, 120.001, 28.001)], layers: ["forest"]) }
    }

    @Test func selfIntersectingSiteIsRepairedAndWarned() throws {
        let bowTie = Polygon([
            [Coordinate(120, 28), Coordinate(120.001, 28.001), Coordinate(120.001, 28), Coordinate(120, 28.001), Coordinate(120, 28)]
        ])
        let site = try Site.make(polygons: [(bowTie, "site")], crs: nil, limits: SiteLimits())
        #expect(site.warnings.first?.contains("Self-intersection") == true)
        #expect(site.areaM2 > 5000 && site.areaM2 < 5600)
    }
}
