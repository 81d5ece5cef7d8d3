import Foundation
import FuzzSupport
import GeoCore
import LandUse
import LayerStore
import Testing

@testable import Conflicts

/// A check over a land-use layer says how much of each 地类 the site takes: gross by 图斑,
/// net after the 田坎 deduction, by 一级类 and by 三大类, adding up to the site.
struct LandUseCheckTests {
    typealias F = ConflictFixtures
    let forbidden = Rule(severity: .forbidden)

    /// A ruled farmland layer away from the 图斑 (so there is a check to make) and a land-use layer.
    func fixtures(
        _ parcels: [(String, Polygon, String, Double)] = [
            ("T1", F.box(120.000, 28.000, 120.001, 28.001), "0101", 0.1),
            ("T2", F.box(120.001, 28.000, 120.002, 28.001), "0301", 0),
            ("T3", F.box(120.000, 28.001, 120.002, 28.002), "0702", 0)
        ]
    ) throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: forbidden, [("P", .polygon(F.box(120.010, 28.010, 120.011, 28.011)), [])])
        try f.landUse("landuse", parcels)
        return f
    }

    @Test func aSiteOnPaddyAndForestIsCountedNetOfTerraces() throws {
        let f = try fixtures()
        let r = try f.check([F.box(120.0005, 28.000, 120.0015, 28.001)])
        let lu = try #require(r.landUse)
        #expect(lu.layer == "landuse" && lu.version == 1)
        let paddy = Ellipsoid.cgcs2000.area(.polygon(F.box(120.0005, 28.000, 120.001, 28.001)))
        let forest = Ellipsoid.cgcs2000.area(.polygon(F.box(120.001, 28.000, 120.0015, 28.001)))
        func code(_ c: String) throws -> LandUseTally.Area { try #require(lu.byCode.first { $0.code == c }, "\(c)") }
        let rice = try code("0101")
        #expect(abs(rice.grossM2 - paddy) < 1e-6 && abs(rice.netM2 - 0.9 * paddy) < 1e-6)
        let terraces = try code("1203")
        #expect(terraces.grossM2 == 0 && abs(terraces.netM2 - 0.1 * paddy) < 1e-6)
        let wood = try code("0301")
        #expect(abs(wood.netM2 - forest) < 1e-6)
        #expect(!lu.byCode.contains { $0.code == "0702" }, "T3 touches the site's edge only")
        #expect(abs(lu.areaM2 - r.site.areaM2) < 1e-6 * r.site.areaM2)
        #expect(abs((lu.byGroup["农用地"]?.netM2 ?? 0) - lu.areaM2) < 1e-6 && lu.byGroup["建设用地"]?.netM2 == 0)
        #expect(lu.byClass.map(\.code) == ["01", "03", "12"])
        // The answer's JSON is the encoder's, with the section in it.
        let json = String(decoding: try r.json(), as: UTF8.self)
        #expect(json == String(decoding: try CheckResult.encoder().encode(r), as: UTF8.self))
        #expect(json.contains("\"landUse\":{\"areaM2\":"))
        // The planner's text and the report show it, in m², 亩 and 公顷.
        let text = CheckText.render(r)
        #expect(text.contains("用地地类 (landuse v1)") && text.contains("0101 水田: 净") && text.contains("农用地:") && text.contains("公顷"))
        let html = try CheckReport.html(result: r, geojson: Data("{\"type\":\"FeatureCollection\",\"features\":[]}".utf8))
        #expect(html.contains("用地地类") && html.contains("0101 水田") && html.contains("1203 田坎"))
    }

    @Test func withAndWithoutPiecesTheFiguresAgree() throws {
        // A diagonal cut through two 图斑, crossing into a third: summed, clipped and overlaid.
        let f = try fixtures([
            ("T1", F.box(120.000, 28.000, 120.001, 28.001), "0101", 0.08),
            ("T2", F.box(120.001, 28.000, 120.002, 28.001), "0103", 0.15),
            ("T3", F.box(120.000, 28.001, 120.002, 28.002), "1101", 0)
        ])
        let site = Polygon([
            [
                Coordinate(120.0002, 28.0001), Coordinate(120.0019, 28.0004), Coordinate(120.0012, 28.0016), Coordinate(120.0002, 28.0001)
            ]
        ])
        let a = try #require(try f.check([site], keepPieces: false).landUse)
        let b = try #require(try f.check([site], keepPieces: true).landUse)
        #expect(a.byCode.map(\.code) == b.byCode.map(\.code))
        for (x, y) in zip(a.byCode, b.byCode) {
            #expect(abs(x.netM2 - y.netM2) < 1e-6 * max(1, y.netM2) && abs(x.grossM2 - y.grossM2) < 1e-6 * max(1, y.grossM2), "\(x.code)")
        }
        #expect(abs((a.byGroup["未利用地"]?.netM2 ?? 0) - (a.byCode.first { $0.code == "1101" }?.netM2 ?? -1)) < 1e-9)
    }

    @Test func theLandUseLayerAloneIsACheckAndItsVersionIsRecorded() throws {
        let f = try fixtures()
        let site = try Site.make(polygons: [(F.box(120.0005, 28.000, 120.0015, 28.001), "site")], crs: nil, limits: SiteLimits())
        let alone = try ConflictChecker(store: f.store).check(site, layers: ["landuse"])
        #expect(alone.result.layers.isEmpty && alone.result.landUse != nil && alone.result.verdict == .clear)
        #expect(alone.versions["landuse"]?.version == 1)
        let all = try ConflictChecker(store: f.store).check(site)
        #expect(Set(all.versions.keys) == ["farmland", "landuse"])
        let farmlandOnly = try ConflictChecker(store: f.store).check(site, layers: ["farmland"])
        #expect(farmlandOnly.result.landUse == nil && farmlandOnly.versions.keys.sorted() == ["farmland"])
    }

    /// A site the layer does not reach, or reaches in part, is answered with what the layer
    /// covers, and a warning that the rest's 地类 is not known.
    @Test func aSiteBeyondTheLayerIsSaidToBe() throws {
        let f = try fixtures()
        let outside = try f.check([F.box(120.010, 28.010, 120.011, 28.011)])
        let none = try #require(outside.landUse)
        #expect(none.areaM2 == 0 && none.byCode.isEmpty && none.byGroup.count == 3)
        #expect(outside.warnings.contains { $0.contains("covers 0.0 m² of the site's") }, "\(outside.warnings)")
        // Half over T2, half east of the layer.
        let half = try f.check([F.box(120.0015, 28.000, 120.0025, 28.001)])
        let part = try #require(half.landUse)
        #expect(abs(part.areaM2 - half.site.areaM2 / 2) < 1e-3 * half.site.areaM2)
        #expect(half.warnings.contains { $0.contains("covers") && $0.contains("not known") }, "\(half.warnings)")
        // Whole: no warning.
        let whole = try f.check([F.box(120.0005, 28.000, 120.0015, 28.001)])
        #expect(!whole.warnings.contains { $0.contains("land use") }, "\(whole.warnings)")
    }

    /// A rule on 地类 (占用耕地): the 图斑 of the named codes conflict, others do not, and the
    /// 地类 answer is the same.
    @Test func aRuleOnLandClassesFlagsTheirTuban() throws {
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: forbidden, [("P", .polygon(F.box(120.010, 28.010, 120.011, 28.011)), [])])
        try f.landUse(
            "landuse",
            [
                ("T1", F.box(120.000, 28.000, 120.001, 28.001), "0101", 0.1),
                ("T2", F.box(120.001, 28.000, 120.002, 28.001), "0301", 0)
            ], rule: Rule(severity: .restricted, codes: ["01*"]))
        let r = try f.check([F.box(120.0005, 28.000, 120.0015, 28.001)])
        let l = try #require(r.layer("landuse"))
        #expect(l.conflict && l.severity == .restricted && r.verdict == .restricted)
        #expect(l.features.map(\.id) == ["T1"])
        let paddy = Ellipsoid.cgcs2000.area(.polygon(F.box(120.0005, 28.000, 120.001, 28.001)))
        #expect(abs(l.overlapAreaM2 - paddy) < 1e-6)
        #expect(abs((r.landUse?.areaM2 ?? 0) - r.site.areaM2) < 1e-6 * r.site.areaM2, "the 地类 answer covers every code")
        let forest = try f.check([F.box(120.0012, 28.000, 120.0018, 28.001)])
        #expect(forest.layer("landuse")?.conflict == false && forest.verdict == .clear)
    }

    /// The 永久基本农田 in a site by the 地类 under it: a parcel lying half on 水田 and half on
    /// 宅基地 shows both, the second the 永农非耕 a reviewer looks for.
    @Test func farmlandIsCountedByTheLandClassUnderIt() throws {
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: forbidden, [("F", .polygon(F.box(120.0004, 28.0006, 120.0008, 28.0014)), [])])
        try f.landUse(
            "landuse",
            [
                ("T1", F.box(120.000, 28.000, 120.001, 28.001), "0101", 0.1),
                ("T3", F.box(120.000, 28.001, 120.001, 28.002), "0702", 0)
            ])
        let r = try f.check([F.box(120.0000, 28.0000, 120.0010, 28.0020)])
        let byCode = try #require(r.landUse?.farmlandByCode)
        let onPaddy = Ellipsoid.cgcs2000.area(.polygon(F.box(120.0004, 28.0006, 120.0008, 28.0010)))
        let onHomes = Ellipsoid.cgcs2000.area(.polygon(F.box(120.0004, 28.0010, 120.0008, 28.0014)))
        func code(_ c: String) throws -> LandUseTally.Area { try #require(byCode.first { $0.code == c }, "\(c): \(byCode)") }
        let paddy = try code("0101"), homes = try code("0702"), terraces = try code("1203")
        #expect(abs(paddy.grossM2 - onPaddy) < 1e-6 && abs(paddy.netM2 - 0.9 * onPaddy) < 1e-6)
        #expect(abs(terraces.netM2 - 0.1 * onPaddy) < 1e-6)
        #expect(abs(homes.grossM2 - onHomes) < 1e-6 && abs(homes.netM2 - onHomes) < 1e-6)
        #expect(CheckText.render(r).contains("其中永久基本农田, 按所在图斑地类:"))
        // The farmland layer's own overlap is their sum.
        #expect(abs((r.layer("farmland")?.overlapAreaM2 ?? 0) - (onPaddy + onHomes)) < 1e-6)
    }

    /// The farmland by 地类 against GEOS on random wall-to-wall 图斑 (a jittered lattice, so
    /// neighbours share edges), random parcels and sites convex or not: whichever way a pair
    /// is measured (summed along a boundary, clipped, or overlaid), each code's area is the
    /// site ∩ 图斑 ∩ parcel GEOS overlays, within 1e-6 relative.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func farmlandByCodeEqualsTheOverlays(seed: UInt64) throws {
        var random = FuzzRandom(seed: seed)
        let step = 0.0008, n = 6, x0 = 120.0, y0 = 28.0
        var lattice: [[Coordinate]] = []
        for i in 0...n {
            lattice.append(
                (0...n).map { j in
                    let edge = i == 0 || j == 0 || i == n || j == n
                    let jitter = edge ? 0 : step * 0.2
                    return Coordinate(
                        x0 + Double(i) * step + random.double(-1...1) * jitter, y0 + Double(j) * step + random.double(-1...1) * jitter)
                })
        }
        let codes = ["0101", "0102", "0201", "0301", "0702", "1006", "1203", "1104"]
        var tuban: [(String, Polygon, String, Double)] = []
        for i in 0..<n {
            for j in 0..<n {
                let ring = [lattice[i][j], lattice[i + 1][j], lattice[i + 1][j + 1], lattice[i][j + 1], lattice[i][j]]
                let code = random.pick(codes)
                tuban.append(("T\(i)_\(j)", Polygon([ring]), code, code.hasPrefix("01") ? random.pick([0, 0.05, 0.1]) : 0))
            }
        }
        // Parcels: turned rectangles, some wholly inside a 图斑, some across several.
        var parcels: [(String, Geometry, [String])] = []
        for k in 0..<25 {
            let cx = x0 + random.double(0.0003...(Double(n) * step - 0.0003)), cy = y0 + random.double(0.0003...(Double(n) * step - 0.0003))
            let w = random.double(0.00005...0.0006), h = random.double(0.00005...0.0004), a = random.double(0...Double.pi)
            let corners = [(-w, -h), (w, -h), (w, h), (-w, h), (-w, -h)].map { dx, dy in
                Coordinate(cx + dx * cos(a) - dy * sin(a), cy + dx * sin(a) + dy * cos(a))
            }
            parcels.append(("P\(k)", .polygon(Polygon([corners])), []))
        }
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: forbidden, parcels)
        try f.landUse("landuse", tuban)
        let convex = F.box(120.0009, 28.0011, 120.0041, 28.0037)
        let notConvex = Polygon([
            [
                Coordinate(120.0007, 28.0007), Coordinate(120.0043, 28.0009), Coordinate(120.0041, 28.0025),
                Coordinate(120.0022, 28.0023), Coordinate(120.0024, 28.0041), Coordinate(120.0008, 28.0040), Coordinate(120.0007, 28.0007)
            ]
        ])
        let engine = GeometryEngine()
        // Overlaid pair by pair, then again with the parcels' pieces the load works out.
        let bare = try [convex, notConvex].map { try f.check([$0], keepPieces: false) }
        let report = try #require(try ParcelLandUse.build(store: f.store))
        #expect(report.parcels == parcels.count && report.pieces > 0)
        let known = try [convex, notConvex].map { try f.check([$0], keepPieces: false, manySites: true) }
        for (site, r) in zip([convex, notConvex, convex, notConvex], bare + known) {
            let byCode = try #require(r.landUse?.farmlandByCode)
            let s = try engine.make(.polygon(site))
            var expected: [String: Double] = [:]
            for (_, polygon, code, _) in tuban {
                let part = try s.intersection(try engine.make(.polygon(polygon)))
                for (_, parcel, _) in parcels {
                    let shared = try part.intersection(try engine.make(parcel)).value().parts(ofDimension: 2)
                    let area = shared.isEmpty ? 0 : Ellipsoid.cgcs2000.area(shared)
                    if area > ConflictChecker.minimumOverlapM2 { expected[code, default: 0] += area }
                }
            }
            #expect(!expected.isEmpty)
            for (code, area) in expected {
                let got = byCode.first { $0.code == code }?.grossM2 ?? -1
                #expect(abs(got - area) <= max(1e-6 * area, 1e-4), "seed \(seed), \(code): \(got) against \(area)")
            }
            #expect(Set(byCode.filter { $0.grossM2 > 0 }.map(\.code)) == Set(expected.keys), "seed \(seed)")
        }
    }
}
