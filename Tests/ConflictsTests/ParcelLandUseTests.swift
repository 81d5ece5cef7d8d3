import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore
import Testing

@testable import Conflicts

/// The 地类 under each farmland parcel, worked out at load for checks: what it holds, that a
/// check's farmland by 地类 is the same with it as without, and that it goes with its versions.
struct ParcelLandUseTests {
    typealias F = ConflictFixtures

    /// Two 图斑 side by side (水田 with 10 % 田坎, and 宅基地) and a gap north of them; parcels
    /// in one 图斑, across both, and half in the gap.
    func fixtures() throws -> ConflictFixtures {
        let f = try ConflictFixtures()
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden),
            [
                ("inPaddy", .polygon(F.box(120.0001, 28.0001, 120.0004, 28.0004)), []),
                ("across", .polygon(F.box(120.0007, 28.0002, 120.0013, 28.0006)), []),
                ("intoGap", .polygon(F.box(120.0014, 28.0008, 120.0018, 28.0012)), [])
            ])
        try f.landUse(
            "landuse",
            [
                ("T1", F.box(120.000, 28.000, 120.001, 28.001), "0101", 0.1),
                ("T2", F.box(120.001, 28.000, 120.002, 28.001), "0702", 0)
            ])
        return f
    }

    @Test func eachParcelHasItsPiecesAndWhetherItLiesInOne() throws {
        let f = try fixtures()
        let report = try #require(try ParcelLandUse.build(store: f.store))
        #expect(report.farmland == "farmland" && report.landUse == "landuse" && report.parcels == 3)
        #expect(report.pieces == 4 && report.parcelsInOne == 1, "\(report.line)")
        let pieces = try #require(
            try f.store.pool.read { db in
                try ParcelLandUseTable.read(farmland: "lyr_farmland_1", landUse: "lyr_landuse_1", db: db)
            })
        func area(_ p: Polygon) -> Double { Ellipsoid.cgcs2000.area(.polygon(p)) }
        #expect(pieces.map(\.parcelFid) == [1, 2, 2, 3] && pieces.map(\.code) == ["0101", "0101", "0702", "0702"])
        #expect(pieces.map(\.whole) == [true, false, false, false], "the third lies half in no 图斑")
        #expect(abs(pieces[0].areaM2 - area(F.box(120.0001, 28.0001, 120.0004, 28.0004))) < 1e-6)
        #expect(pieces[0].deductRatio == 0.1 && pieces[2].deductRatio == 0)
        #expect(abs(pieces[1].areaM2 - area(F.box(120.0007, 28.0002, 120.001, 28.0006))) < 1e-6)
        #expect(abs(pieces[3].areaM2 - area(F.box(120.0014, 28.0008, 120.0018, 28.001))) < 1e-6)
        // Worked out once: a second build finds them.
        let again = try #require(try ParcelLandUse.build(store: f.store))
        #expect(again.pieces == 4 && again.parcelsInOne == 1)
    }

    /// Sites that hold a parcel whole, cut a parcel lying in one 图斑, cut one across both, and
    /// cut one reaching into the gap: the same figures either way.
    @Test(arguments: [
        F.box(120.0000, 28.0000, 120.0020, 28.0020), F.box(120.0002, 28.0000, 120.0020, 28.0005),
        F.box(120.0000, 28.0003, 120.0011, 28.0009), F.box(120.0015, 28.0000, 120.0017, 28.0020)
    ])
    func farmlandByCodeIsTheSameWithThePieces(site: Polygon) throws {
        let f = try fixtures()
        let bare = try #require(try f.check([site], keepPieces: false).landUse?.farmlandByCode)
        _ = try ParcelLandUse.build(store: f.store)
        let known = try #require(try f.check([site], keepPieces: false, manySites: true).landUse?.farmlandByCode)
        #expect(!bare.isEmpty)
        #expect(bare.map(\.code) == known.map(\.code))
        for (a, b) in zip(bare, known) {
            #expect(abs(a.grossM2 - b.grossM2) <= 1e-6 * a.grossM2 + 1e-6 && abs(a.netM2 - b.netM2) <= 1e-6 * a.netM2 + 1e-6, "\(a) \(b)")
        }
    }

    /// A checker of many sites reads the stored pieces (a parcel inside the site adds them as
    /// stored); a single site's check overlays the parcels and reads none.
    @Test func aCheckerOfManySitesReadsThePieces() throws {
        let f = try fixtures()
        _ = try ParcelLandUse.build(store: f.store)
        let whole = [F.box(120.0000, 28.0000, 120.0020, 28.0020)]
        let before = try #require(try f.check(whole, keepPieces: false, manySites: true).landUse?.farmlandByCode)
        try f.store.pool.write { db in
            try db.execute(sql: "UPDATE lyr_farmland_1_on_lyr_landuse_1 SET area_m2 = area_m2 * 2 WHERE parcel_fid = 1")
        }
        let doubled = try #require(try f.check(whole, keepPieces: false, manySites: true).landUse?.farmlandByCode)
        let single = try #require(try f.check(whole, keepPieces: false).landUse?.farmlandByCode)
        let paddy = Ellipsoid.cgcs2000.area(.polygon(F.box(120.0001, 28.0001, 120.0004, 28.0004)))
        func gross(_ areas: [LandUseTally.Area]) -> Double { areas.first { $0.code == "0101" }?.grossM2 ?? 0 }
        #expect(abs(gross(doubled) - gross(before) - paddy) < 1e-6, "the stored piece of the parcel inside the site")
        #expect(abs(gross(single) - gross(before)) < 1e-6, "overlaid, not read")
    }

    /// A new version of either layer wants new pieces; dropping a version drops its pieces.
    @Test func thePiecesGoWithTheirVersions() throws {
        let f = try fixtures()
        _ = try ParcelLandUse.build(store: f.store)
        try f.landUse("landuse", [("T1", F.box(120.000, 28.000, 120.002, 28.001), "0301", 0)])
        let report = try #require(try ParcelLandUse.build(store: f.store))
        #expect(report.landUseVersion == 2 && report.pieces == 3 && report.parcelsInOne == 2)
        let r = try f.check([F.box(120.0000, 28.0000, 120.0020, 28.0020)], keepPieces: false, manySites: true)
        #expect(r.landUse?.farmlandByCode?.map(\.code) == ["0301"])
        func tables() throws -> [String] {
            try f.store.pool.read { db in
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_on\\_%' ESCAPE '\\' ORDER BY name")
            }
        }
        #expect(try tables() == ["lyr_farmland_1_on_lyr_landuse_1", "lyr_farmland_1_on_lyr_landuse_2"])
        try f.store.prune("landuse", keep: 1)
        #expect(try tables() == ["lyr_farmland_1_on_lyr_landuse_2"])
    }
}
