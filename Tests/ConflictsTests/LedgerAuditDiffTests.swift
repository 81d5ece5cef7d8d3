import Foundation
import GeoCore
import LandUse
import LayerStore
import Testing
import VectorIO

@testable import Conflicts

/// Hand-made counties and layers with known areas.
struct LedgerAuditDiffTests {
    let box = ConflictFixtures.box

    /// Two counties side by side, split at 120.010°E, and the city around them.
    func counties(_ f: ConflictFixtures) throws {
        try f.layer(
            "admin", kind: .admin, rule: Rule(severity: .notice), fields: ["XZQMC", "level"],
            [
                ("331100", .polygon(box(120.000, 28.000, 120.020, 28.010)), ["丽水市", "city"]),
                ("331102", .polygon(box(120.000, 28.000, 120.010, 28.010)), ["莲都区", "county"]),
                ("331121", .polygon(box(120.010, 28.000, 120.020, 28.010)), ["青田县", "county"])
            ])
    }

    @Test func ledgerSplitsAStraddlingParcelByArea() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLBM"],
            [
                ("A", .polygon(box(120.001, 28.001, 120.002, 28.002)), ["0101"]),  // in 莲都
                ("B", .polygon(box(120.009, 28.001, 120.011, 28.002)), ["0103"]),  // straddles the line
                ("C", .polygon(box(120.015, 28.005, 120.016, 28.006)), ["0101"])  // in 青田
            ])
        let ledger = try LedgerBuilder(store: f.store).build(by: "county")
        #expect(ledger.units.map(\.code) == ["331102", "331121"], "the city itself is not a county")
        let e = Ellipsoid.cgcs2000
        let lian = try #require(ledger.units[0].layers["farmland"]), qing = try #require(ledger.units[1].layers["farmland"])
        #expect(lian.count == 2 && qing.count == 2, "a straddling parcel counts in each unit it overlaps")
        let expectLian = e.area(box(120.001, 28.001, 120.002, 28.002)) + e.area(box(120.009, 28.001, 120.010, 28.002))
        let expectQing = e.area(box(120.010, 28.001, 120.011, 28.002)) + e.area(box(120.015, 28.005, 120.016, 28.006))
        #expect(abs(lian.areaM2 - expectLian) / expectLian < 1e-9)
        #expect(abs(qing.areaM2 - expectQing) / expectQing < 1e-9)
        let total = try #require(ledger.totals["farmland"])
        #expect(total.count == 3)
        #expect(abs(total.areaM2 - (expectLian + expectQing)) < 1e-6)
        #expect(abs(total.areaMu - total.areaM2 * 15 / 10_000) < 1e-9)
        #expect(total.byDLBM?["0103"]?.count == 1)
        #expect(abs((total.byDLBM?["0103"]?.areaM2 ?? 0) - e.area(box(120.009, 28.001, 120.011, 28.002))) < 1e-6)
    }

    @Test func ledgerCountsOverlapsOnce() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.layer(
            "redline", kind: .ecologicalRedline, rule: Rule(severity: .forbidden),
            [
                ("R1", .polygon(box(120.001, 28.001, 120.003, 28.002)), []),
                ("R2", .polygon(box(120.002, 28.001, 120.004, 28.002)), [])
            ])
        let lian = try #require(try LedgerBuilder(store: f.store).build().units[0].layers["redline"])
        let union = Ellipsoid.cgcs2000.area(box(120.001, 28.001, 120.004, 28.002))
        #expect(lian.count == 2)
        #expect(abs(lian.areaM2 - union) / union < 1e-9)
    }

    @Test func auditFindsOverlapsButNotTouching() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden),
            [
                ("F1", .polygon(box(120.001, 28.001, 120.002, 28.002)), []),  // half inside R
                ("F2", .polygon(box(120.004, 28.001, 120.005, 28.002)), []),  // touches R's edge only
                ("F3", .polygon(box(120.015, 28.001, 120.016, 28.002)), [])  // far away
            ])
        try f.layer(
            "ecological_redline", kind: .ecologicalRedline, rule: Rule(severity: .forbidden),
            [
                ("R", .polygon(box(120.0015, 28.000, 120.004, 28.003)), [])
            ])
        let (pairs, summary) = try CrossLayerAudit(store: f.store).run(pairs: [("farmland", "ecological_redline")])
        #expect(pairs.map { "\($0.aId)-\($0.bId)" } == ["F1-R"])
        let expected = Ellipsoid.cgcs2000.area(box(120.0015, 28.001, 120.002, 28.002))
        #expect(abs(pairs[0].overlapAreaM2 - expected) < 1e-6)
        #expect(pairs[0].county == "331102")
        #expect(summary.count == 1 && summary[0].count == 1)
    }

    /// The audit's JSON is a contract that the bench compares with PostGIS: the exact
    /// bytes pin its keys, their order, `null` for a pair outside every county, escaping, and
    /// numbers in their shortest form that reads back to the same Double.
    @Test func auditJSONKeepsTheDocumentedShape() throws {
        let area = 0.1 + 0.2  // 0.30000000000000004: a value only a round-trip format keeps
        let pairs = [
            CrossLayerAudit.Pair(
                a: "farmland", b: "ecological_redline", aId: "F\"1", bId: "R/1",
                overlapAreaM2: area, county: "331102", geometry: .polygon(box(120.001, 28.001, 120.002, 28.002))),
            CrossLayerAudit.Pair(
                a: "farmland", b: "ecological_redline", aId: "水田\n2", bId: "R2",
                overlapAreaM2: 1234.5, county: nil, geometry: .polygon(box(120.03, 28.001, 120.031, 28.002)))
        ]
        let summary = [
            CrossLayerAudit.Summary(a: "farmland", b: "ecological_redline", county: "331102", count: 1, overlapAreaM2: area),
            CrossLayerAudit.Summary(a: "farmland", b: "ecological_redline", county: "", count: 1, overlapAreaM2: 1234.5)
        ]
        let data = try CrossLayerAudit.json(pairs, summary)
        #expect(
            String(decoding: data, as: UTF8.self) == #"""
                {"pairs":[{"a":"farmland","aId":"F\"1","b":"ecological_redline","bId":"R/1","county":"331102","overlapAreaM2":0.30000000000000004},\#
                {"a":"farmland","aId":"水田\n2","b":"ecological_redline","bId":"R2","county":null,"overlapAreaM2":1234.5}],\#
                "summary":[{"a":"farmland","b":"ecological_redline","count":1,"county":"331102","overlapAreaM2":0.30000000000000004},\#
                {"a":"farmland","b":"ecological_redline","count":1,"county":"","overlapAreaM2":1234.5}]}
                """#)
        // JSONDecoder, not JSONSerialization: the latter reads 0.30000000000000004 back as
        // 0.3000000000000001 on Linux, which would hide whether the writer kept every digit.
        struct Document: Decodable {
            struct Pair: Decodable { let a, aId, b, bId: String; let county: String?; let overlapAreaM2: Double }
            let pairs: [Pair]
            let summary: [CrossLayerAudit.Summary]
        }
        let back = try JSONDecoder().decode(Document.self, from: data)
        #expect(back.pairs.map(\.aId) == ["F\"1", "水田\n2"] && back.pairs.map(\.county) == ["331102", nil])
        #expect(back.pairs[0].overlapAreaM2 == area && back.summary[0].overlapAreaM2 == area)
    }

    /// The GeoJSON output opens in QGIS as a layer: one feature per pair, the overlap geometry at
    /// full precision, and the pair's ids, area and county as properties.
    @Test func auditGeoJSONCarriesEveryPairWithItsGeometry() throws {
        let polygon = box(120.0015, 28.001 + 1e-12, 120.002, 28.002)
        let piece = Geometry.polygon(polygon)
        let pairs = [
            CrossLayerAudit.Pair(
                a: "farmland", b: "ecological_redline", aId: "F1", bId: "R",
                overlapAreaM2: 0.1 + 0.2, county: nil, geometry: piece)
        ]
        struct Collection: Decodable {
            struct Feature: Decodable {
                struct Properties: Decodable { let a, aId, b, bId, county: String; let overlapAreaM2: Double }
                struct Shape: Decodable { let type: String; let coordinates: [[[Double]]] }
                let type: String
                let geometry: Shape
                let properties: Properties
            }
            let type: String
            let features: [Feature]
        }
        let back = try JSONDecoder().decode(Collection.self, from: CrossLayerAudit.geojson(pairs))
        #expect(back.type == "FeatureCollection" && back.features.count == 1)
        let feature = back.features[0]
        #expect(feature.type == "Feature" && feature.geometry.type == "Polygon")
        #expect(feature.properties.aId == "F1" && feature.properties.bId == "R" && feature.properties.county == "")
        #expect(feature.properties.overlapAreaM2 == 0.1 + 0.2)
        #expect(feature.geometry.coordinates == polygon.rings.map { $0.map { [$0.x, $0.y] } }, "coordinates read back exactly")
    }

    @Test func diffFindsAddedRemovedReshapedAndRenamed() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"],
            [
                ("KEEP", .polygon(box(120.001, 28.001, 120.002, 28.002)), ["水田"]),
                ("GONE", .polygon(box(120.003, 28.001, 120.004, 28.002)), ["水田"]),
                ("SHAPE", .polygon(box(120.005, 28.001, 120.006, 28.002)), ["水田"]),
                ("NAME", .polygon(box(120.015, 28.001, 120.016, 28.002)), ["水田"])
            ])
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden), fields: ["DLMC"],
            [
                ("KEEP", .polygon(box(120.001, 28.001, 120.002, 28.002)), ["水田"]),
                ("SHAPE", .polygon(box(120.005, 28.001, 120.007, 28.002)), ["水田"]),
                ("NAME", .polygon(box(120.015, 28.001, 120.016, 28.002)), ["旱地"]),
                ("NEW", .polygon(box(120.017, 28.001, 120.018, 28.002)), ["旱地"])
            ])
        let report = try ChangeReport.make(store: f.store, layer: "farmland", from: nil, to: nil)
        let s = report.summary
        #expect(s.added == ["NEW"] && s.removed == ["GONE"])
        let changes = Dictionary(uniqueKeysWithValues: s.changed.map { ($0.id, $0) })
        #expect(changes.keys.sorted() == ["NAME", "SHAPE"])
        #expect(changes["SHAPE"]?.geometryChanged == true && changes["SHAPE"]?.attributesChanged == [])
        let e = Ellipsoid.cgcs2000
        #expect(
            abs(
                (changes["SHAPE"]?.areaDeltaM2 ?? 0)
                    - (e.area(box(120.005, 28.001, 120.007, 28.002)) - e.area(box(120.005, 28.001, 120.006, 28.002)))) < 1e-6)
        #expect(changes["NAME"]?.geometryChanged == false && changes["NAME"]?.attributesChanged == ["DLMC"])
        let lian = s.byCounty.first { $0.code == "331102" }, qing = s.byCounty.first { $0.code == "331121" }
        #expect(abs((lian?.areaDeltaM2 ?? 0) - (changes["SHAPE"]!.areaDeltaM2 - e.area(box(120.003, 28.001, 120.004, 28.002)))) < 1e-6)
        #expect(abs((qing?.areaDeltaM2 ?? 0) - e.area(box(120.017, 28.001, 120.018, 28.002))) < 1e-6)
        // The GeoJSON for QGIS: the added, removed and reshaped parcels (not the renamed one),
        // each with its change and area delta.
        struct Collection: Decodable {
            struct Feature: Decodable {
                struct Properties: Decodable { let id, change: String; let areaDeltaM2: Double }
                struct Shape: Decodable { let type: String; let coordinates: [[[[Double]]]] }
                let type: String
                let geometry: Shape
                let properties: Properties
            }
            let type: String
            let features: [Feature]
        }
        let collection = try JSONDecoder().decode(Collection.self, from: report.geojson())
        #expect(collection.type == "FeatureCollection")
        let kinds = Dictionary(uniqueKeysWithValues: collection.features.map { ($0.properties.id, $0.properties.change) })
        #expect(kinds == ["NEW": "added", "GONE": "removed", "SHAPE": "changed"])
        let reshaped = try #require(collection.features.first { $0.properties.id == "SHAPE" })
        // Stored layers hold MultiPolygons.
        #expect(reshaped.type == "Feature" && reshaped.geometry.type == "MultiPolygon")
        #expect(reshaped.geometry.coordinates == [box(120.005, 28.001, 120.007, 28.002).rings.map { $0.map { [$0.x, $0.y] } }])
        #expect(reshaped.properties.areaDeltaM2 == changes["SHAPE"]?.areaDeltaM2)
        // Versions are listed and pruned, never the current one.
        #expect(try f.store.versions(of: "farmland").map(\.version) == [1, 2])
        try f.store.prune("farmland", keep: 1)
        #expect(try f.store.versions(of: "farmland").map(\.version) == [2])
    }

    /// A land-use layer's ledger: per unit, net areas by 地类 with the 田坎 deduction, a 图斑 on
    /// the county line split by area; the tiling 图斑 are not unioned (their boxes all meet).
    @Test func ledgerOfALandUseLayerCountsNetByClass() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.landUse(
            "landuse",
            [
                ("T1", box(120.000, 28.000, 120.005, 28.010), "0101", 0.1),  // in 莲都
                ("T2", box(120.005, 28.000, 120.015, 28.010), "0301", 0),  // straddles the line
                ("T3", box(120.015, 28.000, 120.020, 28.010), "0702", 0)  // in 青田
            ])
        let ledger = try LedgerBuilder(store: f.store).build(by: "county", layers: ["landuse"])
        let e = Ellipsoid.cgcs2000
        let lian = try #require(ledger.units[0].layers["landuse"]?.landUse), qing = try #require(ledger.units[1].layers["landuse"]?.landUse)
        let paddy = e.area(box(120.000, 28.000, 120.005, 28.010))
        func net(_ s: LandUseTally.Summary, _ code: String) -> Double { s.byCode.first { $0.code == code }?.netM2 ?? -1 }
        #expect(abs(net(lian, "0101") - 0.9 * paddy) < 1e-6 && abs(net(lian, "1203") - 0.1 * paddy) < 1e-6)
        #expect(abs(net(lian, "0301") - e.area(box(120.005, 28.000, 120.010, 28.010))) < 1e-6)
        #expect(abs(net(qing, "0301") - e.area(box(120.010, 28.000, 120.015, 28.010))) < 1e-6)
        // Within 1e-9 relative: the boxes' geodesic edges meet the county's at vertices it lacks.
        let county = e.area(box(120.000, 28.000, 120.010, 28.010))
        #expect(abs(lian.areaM2 - county) < 1e-9 * county, "a unit's nets add up to its area")
        #expect(abs((qing.byGroup["建设用地"] ?? 0) - e.area(box(120.015, 28.000, 120.020, 28.010))) < 1e-6)
        let total = try #require(ledger.totals["landuse"]?.landUse)
        let city = e.area(box(120.000, 28.000, 120.020, 28.010))
        #expect(abs(total.areaM2 - city) < 1e-8 * city)
        #expect(ledger.totals["landuse"]?.unclassifiedM2 == 0)
    }

    /// 图斑 a report-mode load kept with a code the classification does not know are not
    /// guessed into a class: their area is said apart.
    @Test func ledgerSaysTheAreaOfUnknownCodes() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.landUse(
            "landuse",
            [("T1", box(120.000, 28.000, 120.005, 28.010), "0101", 0), ("T2", box(120.005, 28.000, 120.010, 28.010), "0199", 0)],
            onError: .report)
        let ledger = try LedgerBuilder(store: f.store).build(by: "county", layers: ["landuse"])
        let lian = try #require(ledger.units[0].layers["landuse"])
        let unknown = Ellipsoid.cgcs2000.area(box(120.005, 28.000, 120.010, 28.010))
        #expect(abs((lian.unclassifiedM2 ?? 0) - unknown) < 1e-6)
        #expect(lian.landUse?.byCode.map(\.code) == ["0101"])
    }

    /// By township and village without their boundaries: each 图斑 counts whole in the unit its
    /// 坐落单位代码 names (as the 三调 summary tables count), net by class as by county, and the
    /// units named by their county.
    @Test func ledgerByTownshipCountsByLocationCode() throws {
        let f = try ConflictFixtures()
        try counties(f)
        let t1 = box(120.000, 28.000, 120.005, 28.010), t2 = box(120.005, 28.000, 120.010, 28.010)
        let t3 = box(120.010, 28.000, 120.015, 28.010), t4 = box(120.015, 28.000, 120.020, 28.010)
        try f.landUse(
            "landuse", [("T1", t1, "0101", 0.1), ("T2", t2, "0301", 0), ("T3", t3, "0702", 0), ("T4", t4, "0101", 0.2)],
            units: ["331102001001", "331102001002", "331102002001", "331121003001"])
        try f.layer("farmland", rule: Rule(severity: .forbidden), [("A", .polygon(box(120.001, 28.001, 120.002, 28.002)), [])])
        let e = Ellipsoid.cgcs2000
        let ledger = try LedgerBuilder(store: f.store).build(by: "township")
        #expect(ledger.by == "township")
        #expect(ledger.units.map(\.code) == ["331102001", "331102002", "331121003"])
        #expect(ledger.units.map(\.name) == ["莲都区 001", "莲都区 002", "青田县 003"])
        #expect(ledger.units.allSatisfy { $0.layers.keys.sorted() == ["landuse"] }, "only land use has township codes")
        let first = try #require(ledger.units[0].layers["landuse"]?.landUse),
            third = try #require(ledger.units[2].layers["landuse"]?.landUse)
        func net(_ s: LandUseTally.Summary, _ code: String) -> Double { s.byCode.first { $0.code == code }?.netM2 ?? -1 }
        #expect(abs(net(first, "0101") - 0.9 * e.area(t1)) < 1e-6 && abs(net(first, "1203") - 0.1 * e.area(t1)) < 1e-6)
        #expect(abs(net(first, "0301") - e.area(t2)) < 1e-6)
        #expect(abs(net(third, "0101") - 0.8 * e.area(t4)) < 1e-6 && abs(net(third, "1203") - 0.2 * e.area(t4)) < 1e-6)
        #expect(ledger.units[0].layers["landuse"]?.count == 2 && ledger.units[0].layers["landuse"]?.byDLBM?["0101"]?.count == 1)
        // The same city total as the ledger by county boundaries.
        let byCounty = try #require(try LedgerBuilder(store: f.store).build(by: "county", layers: ["landuse"]).totals["landuse"]?.landUse)
        let total = try #require(ledger.totals["landuse"]?.landUse)
        #expect(abs(total.areaM2 - byCounty.areaM2) < 1e-8 * byCounty.areaM2)
        for (a, b) in zip(total.byCode, byCounty.byCode) { #expect(a.code == b.code && abs(a.netM2 - b.netM2) < 1e-6) }
        // A version loaded before loads kept their sums by unit: the same figures from its 图斑.
        let table = FeatureTable(try f.store.layer(named: "landuse").version).name
        #expect(try f.store.pool.read { try $0.tableExists(LandUseUnits.table(of: table)) })
        try f.store.pool.write { try $0.execute(sql: "DROP TABLE \(FeatureTable.quote(LandUseUnits.table(of: table)))") }
        let fromTubans = try LedgerBuilder(store: f.store).build(by: "township")
        #expect(fromTubans.units.map(\.code) == ledger.units.map(\.code))
        let again = try #require(fromTubans.totals["landuse"]?.landUse)
        for (a, b) in zip(again.byCode, total.byCode) { #expect(a.code == b.code && abs(a.netM2 - b.netM2) < 1e-6) }
        // Villages: all twelve digits.
        let villages = try LedgerBuilder(store: f.store).build(by: "village", layers: ["landuse"])
        #expect(villages.units.map(\.code) == ["331102001001", "331102001002", "331102002001", "331121003001"])
        // A layer without 坐落单位代码 cannot be counted by township without township boundaries.
        #expect(throws: StoreError.self) { try LedgerBuilder(store: f.store).build(by: "township", layers: ["landuse", "farmland"]) }
    }

    /// The audit by 地类: 永久基本农田 on land that is not 耕地 (永农非耕), and on 建设用地; each
    /// pair says the 图斑's code, and a filter needs a land-use layer in the pair.
    @Test func auditFiltersTheLandUseSideByCode() throws {
        let f = try ConflictFixtures()
        try counties(f)
        try f.landUse(
            "landuse",
            [
                ("T1", box(120.000, 28.000, 120.005, 28.010), "0101", 0), ("T2", box(120.005, 28.000, 120.008, 28.010), "0301", 0),
                ("T3", box(120.008, 28.000, 120.015, 28.010), "0702", 0)
            ])
        // One parcel across all three.
        try f.layer("farmland", rule: Rule(severity: .forbidden), [("A", .polygon(box(120.004, 28.001, 120.009, 28.002)), [])])
        let audit = CrossLayerAudit(store: f.store)
        let all = try audit.run(pairs: [("farmland", "landuse")])
        #expect(all.pairs.map(\.bId) == ["T1", "T2", "T3"] && all.pairs.map(\.landUseCode) == ["0101", "0301", "0702"])
        let notArable = try audit.run(pairs: [("farmland", "landuse")], where: try LandCodeFilter("code not 01*"))
        #expect(notArable.pairs.map(\.bId) == ["T2", "T3"])
        let e = Ellipsoid.cgcs2000
        #expect(abs(notArable.pairs[0].overlapAreaM2 - e.area(box(120.005, 28.001, 120.008, 28.002))) < 1e-6)
        #expect(abs(notArable.summary[0].overlapAreaM2 - e.area(box(120.005, 28.001, 120.009, 28.002))) < 1e-3)
        let built = try audit.run(pairs: [("landuse", "farmland")], where: try LandCodeFilter("group 建设用地"))
        #expect(built.pairs.map(\.aId) == ["T3"] && built.pairs[0].landUseCode == "0702")
        let json = String(decoding: try CrossLayerAudit.json(built.pairs, built.summary), as: UTF8.self)
        #expect(json.contains("\"landUseCode\":\"0702\""))
        #expect(throws: StoreError.self) { try audit.run(pairs: [("farmland", "admin")], where: try LandCodeFilter("code 01*")) }
    }
}
