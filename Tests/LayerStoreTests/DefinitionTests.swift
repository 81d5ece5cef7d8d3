import Foundation
import GRDB
import GeoCore
import Testing
import VectorIO

@testable import LayerStore

/// A new version of a layer keeps the layer's definition (title, kind, id field, access,
/// rule) unless the caller replaces it on purpose, and a version whose data the rule cannot
/// be applied to is refused.
struct DefinitionTests {
    static let farmlandRule = Rule(severity: .forbidden, when: .inside, message: "永久基本农田")
    static let zoneRule = Rule(severity: .restricted, byField: .init(field: "GNFQ", values: ["核心区": .forbidden, "实验区": .restricted]))

    func catalogSpec(_ source: String) -> LayerSpec {
        LayerSpec(
            name: "farmland", title: "永久基本农田", kind: .farmland, source: source, idField: "BSM",
            access: .public, rule: Self.farmlandRule, catalogFile: "/catalog/farmland.yaml")
    }

    /// Parcels with a GNFQ zone each, for rules by field.
    func zones(_ f: Fixtures, _ name: String, values: [String?]) throws -> String {
        let p = f.path(name)
        let w = try VectorWriter(
            path: p, format: .geoJSON, layerName: "zones", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "GNFQ", type: .text)])
        for (i, v) in values.enumerated() {
            try w.write(
                geometry: Fixtures.square(119.9 + Double(i) * 0.001, 28.4, 0.0005),
                attributes: [.text("Z\(i)"), v.map { .text($0) } ?? .null])
        }
        try w.close()
        return p
    }

    func versionRow(_ store: Store, _ layer: String, _ version: Int) throws -> (spec: LayerSpec, change: String?) {
        try store.pool.read { db in
            let row = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT spec, definition_change FROM onemap_layer_versions WHERE layer = ? AND version = ?",
                    arguments: [layer, version]))
            return (try JSONDecoder().decode(LayerSpec.self, from: Data((row["spec"] as String).utf8)), row["definition_change"])
        }
    }

    @Test func importOfAnExistingLayerKeepsItsDefinition() throws {
        let f = try Fixtures()
        let store = try f.store()
        _ = try LayerImporter(store: store).load(catalogSpec(try f.geoJSON("v1.geojson", count: 3)))
        // This year's file, as `onemap import v2 --layer farmland` brings it: no title, kind or rule given.
        let request = ImportRequest(name: "farmland", source: try f.geoJSON("v2.geojson", count: 4))
        let spec = try request.spec(stored: try store.definition(of: "farmland"))
        let report = try LayerImporter(store: store).load(spec, label: "2026年度变更", authority: request.authority)
        #expect(report.version == 2 && report.definitionChanges.isEmpty)
        let layer = try store.layer(named: "farmland")
        #expect(layer.spec.title == "永久基本农田" && layer.spec.kind == .farmland && layer.spec.idField == "BSM")
        #expect(layer.spec.rule == Self.farmlandRule)
        #expect(layer.version.count == 4 && layer.version.source.hasSuffix("v2.geojson"))
        #expect(layer.version.definitionChange == nil)
        // Both versions carry the definition they were loaded under.
        #expect(try versionRow(store, "farmland", 1).spec.rule == Self.farmlandRule)
        #expect(try versionRow(store, "farmland", 2).spec.rule == Self.farmlandRule)
        #expect(try versionRow(store, "farmland", 1).change == "defined by /catalog/farmland.yaml")
        // The catalog still names the old file: the user is told.
        #expect(report.warnings.contains { $0.contains("/catalog/farmland.yaml") && $0.contains("v2.geojson") })
    }

    @Test func importOptionsThatContradictTheDefinitionAreRefusedUnlessRedefined() throws {
        let f = try Fixtures()
        let store = try f.store()
        _ = try LayerImporter(store: store).load(catalogSpec(try f.geoJSON("v1.geojson", count: 3)))
        let v2 = try f.geoJSON("v2.geojson", count: 4)
        for request in [
            ImportRequest(name: "farmland", source: v2, kind: .other),
            ImportRequest(name: "farmland", source: v2, title: "farmland"),
            ImportRequest(name: "farmland", source: v2, idField: "DLMC")
        ] {
            #expect {
                _ = try request.spec(stored: try store.definition(of: "farmland"))
            } throws: { e in
                guard case StoreError.conflict(let m) = e else { return false }
                return m.contains("--redefine") && m.contains("would change it")
            }
        }
        // Options that agree with the definition are fine.
        let same = ImportRequest(name: "farmland", source: v2, title: "永久基本农田", kind: .farmland, idField: "BSM")
        #expect(try same.spec(stored: try store.definition(of: "farmland")).rule == Self.farmlandRule)
        #expect(try store.versions(of: "farmland").count == 1)

        // --redefine replaces what it names, keeps the rest, and is recorded.
        let redefine = ImportRequest(name: "farmland", source: v2, title: "基本农田(试)", kind: .other, redefine: true)
        let report = try LayerImporter(store: store).load(
            try redefine.spec(stored: try store.definition(of: "farmland")),
            authority: redefine.authority)
        #expect(report.definitionChanges == ["title: 永久基本农田 → 基本农田(试)", "kind: farmland → other"])
        let layer = try store.layer(named: "farmland")
        #expect(layer.spec.kind == .other && layer.spec.rule == Self.farmlandRule)
        #expect(layer.version.definitionChange == "changed by import --redefine: title: 永久基本农田 → 基本农田(试); kind: farmland → other")
        #expect(try store.versions(of: "farmland").last?.definitionChange == layer.version.definitionChange)
    }

    /// What `onemap import` resolved against must still be the definition when it commits.
    @Test func aNewSourceLoadNeverChangesTheDefinition() throws {
        let f = try Fixtures()
        let store = try f.store()
        _ = try LayerImporter(store: store).load(catalogSpec(try f.geoJSON("v1.geojson", count: 3)))
        var stale = catalogSpec(try f.geoJSON("v2.geojson", count: 3))
        stale.rule = nil
        #expect {
            _ = try LayerImporter(store: store).load(stale, authority: .newSource)
        } throws: { e in
            guard case StoreError.conflict(let m) = e else { return false }
            return m.contains("rule: forbidden inside → none")
        }
        #expect(try store.layer(named: "farmland").version.number == 1)
    }

    @Test func aCatalogChangeOfTheDefinitionIsReportedAndRecorded() throws {
        let f = try Fixtures()
        let store = try f.store()
        _ = try LayerImporter(store: store).load(catalogSpec(try f.geoJSON("v1.geojson", count: 3)))
        var edited = catalogSpec(try f.geoJSON("v2.geojson", count: 3))
        edited.rule = nil
        edited.access = .restricted
        let report = try LayerImporter(store: store).load(edited)
        #expect(report.definitionChanges == ["access: public → restricted", "rule: forbidden inside → none"])
        #expect(report.warnings.contains { $0.contains("definition changed (catalog)") && $0.contains("rule: forbidden inside → none") })
        #expect(try store.layer(named: "farmland").version.definitionChange?.hasPrefix("changed by catalog: access") == true)
        // The old version still says how it was checked.
        #expect(try versionRow(store, "farmland", 1).spec.rule == Self.farmlandRule)
    }

    @Test func aVersionWithoutTheRulesFieldIsRefused() throws {
        let f = try Fixtures()
        let store = try f.store()
        let spec = LayerSpec(
            name: "protected_area", title: "自然保护地", kind: .protectedArea,
            source: try zones(f, "v1.geojson", values: ["核心区", "实验区"]), idField: "BSM", rule: Self.zoneRule)
        _ = try LayerImporter(store: store).load(spec)
        var v2 = spec
        v2.source = try f.geoJSON("nofield.geojson", count: 2)  // BSM, DLMC, TBMJ: no GNFQ
        #expect {
            _ = try LayerImporter(store: store).load(v2)
        } throws: { e in
            "\(e)".contains("rule cannot be applied") && "\(e)".contains("by_field 'GNFQ' is not a field")
                && "\(e)".contains("nofield.geojson")
        }
        #expect(try store.layer(named: "protected_area").version.number == 1)
    }

    @Test func unmappedValuesAreRefusedOrCheckedAsTheDeclaredFallback() throws {
        let f = try Fixtures()
        let store = try f.store()
        var spec = LayerSpec(
            name: "protected_area", title: "自然保护地", kind: .protectedArea,
            source: try zones(f, "v1.geojson", values: ["核心区", "核心保护区", "核心保护区", nil]),
            idField: "BSM", rule: Self.zoneRule)
        #expect {
            _ = try LayerImporter(store: store).load(spec)
        } throws: { e in
            let m = "\(e)"
            return m.contains("3 features have a GNFQ value the rule does not map") && m.contains("'核心保护区' ×2 (first BSM=Z1")
                && m.contains("(none) ×1 (first BSM=Z3") && m.contains("rule.by_field.otherwise")
        }
        #expect(try store.layers().isEmpty)
        spec.rule?.byField?.otherwise = .forbidden
        let report = try LayerImporter(store: store).load(spec)
        #expect(report.warnings.contains { $0.contains("3 features have a GNFQ value") && $0.contains("checked as forbidden") })
        #expect(try store.layer(named: "protected_area").spec.rule?.byField?.otherwise == .forbidden)
    }

    @Test func anOutsideRuleNeedsPolygons() throws {
        let f = try Fixtures()
        let store = try f.store()
        let p = f.path("lines.geojson")
        let w = try VectorWriter(
            path: p, format: .geoJSON, layerName: "lines", crs: "EPSG:4490", geometryType: "LineString",
            fields: [FieldDefinition(name: "BSM", type: .text)])
        try w.write(geometry: .lineString([Coordinate(120, 28), Coordinate(120.01, 28.01)]), attributes: [.text("L1")])
        try w.close()
        let spec = LayerSpec(
            name: "boundary", title: "边界", kind: .urbanBoundary, source: p, idField: "BSM",
            rule: Rule(severity: .restricted, when: .outside))
        #expect { _ = try LayerImporter(store: store).load(spec) } throws: { "\($0)".contains("'when: outside' needs polygons") }
    }

    @Test func theDatabaseRefusesAVersionWithoutItsDefinition() throws {
        let f = try Fixtures()
        let store = try f.store()
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO onemap_layer_versions(layer, version, label, table_name, geometry_type, feature_count, fields,
                            source, loaded_at, repaired) VALUES ('x', 1, 'v1', 'lyr_x_1', 'MultiPolygon', 0, '[]', 's', 't', 0)
                        """)
            }
        }
    }

    /// A database written before versions kept their definition gets each version's from
    /// its layer's, so nothing loaded before loses its rule.
    @Test func anOlderDatabaseGivesEveryVersionItsLayersDefinition() throws {
        let f = try Fixtures()
        let path = f.path("old.sqlite")
        var config = Configuration()
        config.prepareDatabase { db in try SpatiaLite.initialize(connection: db.sqliteConnection!) }
        let old = try DatabaseQueue(path: path, configuration: config)
        try Store.migrator.migrate(old, upTo: "v3-keys")
        let specJSON = String(decoding: try JSONEncoder().encode(catalogSpec("/data/farmland.gpkg")), as: UTF8.self)
        try old.write { db in
            try db.execute(sql: "INSERT INTO onemap_layers(name, spec, current_version) VALUES ('farmland', ?, 2)", arguments: [specJSON])
            for v in 1...2 {
                try db.execute(
                    sql: """
                        INSERT INTO onemap_layer_versions(layer, version, label, table_name, geometry_type, feature_count, fields,
                            source, loaded_at, repaired) VALUES ('farmland', ?, ?, ?, 'MultiPolygon', 0, '[]', 's', 't', 0)
                        """, arguments: [v, "v\(v)", "lyr_farmland_\(v)"])
            }
        }
        try old.close()
        let store = try Store(path: path)
        #expect(try store.layer(named: "farmland").spec.rule == Self.farmlandRule)
        #expect(try versionRow(store, "farmland", 1).spec.rule == Self.farmlandRule)
    }
}
