import Foundation
import GRDB
import GeoCore
import LayerStore
import Testing
import VectorIO

@testable import Conflicts

/// A check answers for every layer that has a rule, with the version it read, and fails
/// rather than pass a site when a rule cannot be applied.
struct RuleCoverageTests {
    let box = ConflictFixtures.box
    let siteOverP = ConflictFixtures.box(119.9995, 27.9995, 120.0015, 28.0015)

    func layers(_ f: ConflictFixtures) throws {
        try f.layer("farmland", rule: Rule(severity: .forbidden), [("P", .polygon(box(120.000, 28.000, 120.001, 28.001)), [])])
        try f.layer(
            "redline", kind: .ecologicalRedline, rule: Rule(severity: .forbidden),
            [("R", .polygon(box(121.000, 28.000, 121.001, 28.001)), [])])
        try f.layer(
            "zones", kind: .protectedArea,
            rule: Rule(severity: .restricted, byField: .init(field: "GNFQ", values: ["核心区": .forbidden], otherwise: .forbidden)),
            fields: ["GNFQ"], [("Z", .polygon(box(120.0005, 28.0005, 120.0006, 28.0006)), ["核心保护区"])])
        try admin(f)
    }

    /// A layer without a rule (the admin units): not checked, so not listed.
    func admin(_ f: ConflictFixtures) throws {
        let path = "\(f.dir)/admin.geojson"
        let w = try VectorWriter(
            path: path, format: .geoJSON, layerName: "admin", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "XZQDM", type: .text)])
        try w.write(geometry: .polygon(box(119, 27, 121, 29)), attributes: [.text("331102")])
        try w.close()
        _ = try LayerImporter(store: f.store).load(LayerSpec(name: "admin", title: "行政区划", kind: .admin, source: path, idField: "XZQDM"))
    }

    @Test func everyRuledLayerIsListedWithItsVersion() throws {
        let f = try ConflictFixtures()
        try layers(f)
        let r = try f.check([siteOverP])
        #expect(r.layers.map(\.layer) == ["farmland", "redline", "zones"])
        for l in r.layers {
            #expect(l.version == 1 && l.versionLabel?.isEmpty == false, "\(l.layer)")
        }
        #expect(r.layer("redline")?.conflict == false)
        // A value the table does not map is checked as `otherwise`, not as the milder rule.
        #expect(r.layer("zones")?.features.first?.severity == .forbidden)
        let json = try #require(try JSONSerialization.jsonObject(with: r.json()) as? [String: Any])
        let listed = try #require(json["layers"] as? [[String: Any]])
        #expect(listed.allSatisfy { $0["version"] as? Int == 1 && $0["versionLabel"] is String })
        #expect(CheckText.render(r).contains("(redline, 版本 \(r.layer("redline")!.versionLabel!) #1): 无冲突"))
    }

    /// The issue's scenario in the engine: a yearly update through `import` keeps the verdict.
    @Test func aNewVersionThroughImportKeepsTheVerdict() throws {
        let f = try ConflictFixtures()
        try layers(f)
        #expect(try f.check([siteOverP]).verdict == .forbidden)
        let v2 = "\(f.dir)/farmland_v2.geojson"
        let w = try VectorWriter(
            path: v2, format: .geoJSON, layerName: "YJJBNTTB", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text)])
        try w.write(geometry: .polygon(box(120.000, 28.000, 120.001, 28.001)), attributes: [.text("P2026")])
        try w.close()
        let request = ImportRequest(name: "farmland", source: v2, sourceLayer: "YJJBNTTB", idField: "BSM")
        _ = try LayerImporter(store: f.store).load(
            try request.spec(stored: try f.store.definition(of: "farmland")),
            label: "2026年度变更", authority: request.authority)
        let r = try f.check([siteOverP])
        #expect(r.verdict == .forbidden)
        let farmland = try #require(r.layer("farmland"))
        #expect(farmland.features.map(\.id) == ["P2026"] && farmland.version == 2 && farmland.versionLabel == "2026年度变更")
    }

    @Test func aRuleItsVersionCannotSatisfyFailsTheCheck() throws {
        let f = try ConflictFixtures()
        try layers(f)
        // A version whose stored rule names a field the data lacks (written behind the
        // importer's back, as an older or hand-edited database could hold).
        try f.store.pool.write { db in
            try db.execute(
                sql: "UPDATE onemap_layer_versions SET spec = json_set(spec, '$.rule.byField.field', 'ZONE') WHERE layer = 'zones'")
        }
        #expect {
            _ = try f.check([siteOverP])
        } throws: { e in
            guard case StoreError.cannotCheck(let m) = e else { return false }
            return m.contains("layer 'zones' version 1") && m.contains("by_field 'ZONE' is not a field")
        }
        // The other layers can still be checked on their own.
        #expect(try f.check([siteOverP], layers: ["farmland"]).verdict == .forbidden)
    }

    @Test func aLayerWithoutARuleCannotBeAskedFor() throws {
        let f = try ConflictFixtures()
        try layers(f)
        #expect {
            _ = try f.check([siteOverP], layers: ["farmland", "admin"])
        } throws: { e in
            guard case StoreError.invalidRequest(let m) = e else { return false }
            return m.contains("'admin' has no rule") && m.contains("farmland, redline, zones")
        }
    }

    @Test func noRuledLayerMeansNoVerdict() throws {
        let f = try ConflictFixtures()
        try admin(f)
        #expect {
            _ = try f.check([siteOverP])
        } throws: { e in
            guard case StoreError.cannotCheck(let m) = e else { return false }
            return m.contains("no loaded layer has a rule")
        }
    }
}
