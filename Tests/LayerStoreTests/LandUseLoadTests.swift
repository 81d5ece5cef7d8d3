import Foundation
import GRDB
import GeoCore
import LayerStore
import Testing
import VectorIO

/// A land-use layer (三调 地类图斑) is checked as it loads: unknown codes, deduction ratios out of
/// range, net areas that are not gross − deducted, and location codes that are not 12 digits
/// fail the load by feature id, or are listed with `on_error: report`; the old version stays.
struct LandUseLoadTests {
    static let fields = ["BSM", "DLBM", "DLMC", "ZLDWDM", "TBMJ", "KCDLBM", "KCXS", "KCMJ", "TBDLMJ"]

    /// One 图斑 a row: (BSM, DLBM, ZLDWDM, TBMJ, KCXS, KCMJ, TBDLMJ), 0.001° squares in a row.
    func source(_ f: Fixtures, _ name: String, _ rows: [(String, String, String, Double, Double, Double, Double)]) throws -> String {
        let p = f.path(name)
        let w = try VectorWriter(
            path: p, format: .geoJSON, layerName: "dltb", crs: "EPSG:4490", geometryType: "Polygon",
            fields: Self.fields.map { FieldDefinition(name: $0, type: ["TBMJ", "KCXS", "KCMJ", "TBDLMJ"].contains($0) ? .real : .text) })
        for (i, r) in rows.enumerated() {
            try w.write(
                geometry: Fixtures.square(119.9 + Double(i) * 0.001, 28.4, 0.001),
                attributes: [.text(r.0), .text(r.1), .text("名称"), .text(r.2), .real(r.3), .text("1203"), .real(r.4), .real(r.5), .real(r.6)]
            )
        }
        try w.close()
        return p
    }

    func spec(_ path: String, onError: LandUseFields.OnError = .fail, codeField: String? = nil) -> LayerSpec {
        LayerSpec(
            name: "landuse", title: "地类图斑", kind: .landUse, source: path, idField: "BSM",
            landUse: LandUseFields(codeField: codeField, onError: onError))
    }

    static let good: [(String, String, String, Double, Double, Double, Double)] = [
        ("T1", "0101", "331102001001", 1000, 0.08, 80, 920),
        ("T2", "0301", "331102001002", 500, 0, 0, 500),
        ("T3", "1104A", "331102002001", 300, 0, 0, 300)
    ]

    @Test func goodDataLoads() throws {
        let f = try Fixtures()
        let store = try f.store()
        let report = try LayerImporter(store: store).load(spec(try source(f, "good.geojson", Self.good)))
        #expect(report.count == 3 && report.warnings.isEmpty)
    }

    @Test func eachBrokenRuleFailsTheLoadNamingTheFeature() throws {
        let f = try Fixtures()
        let store = try f.store()
        _ = try LayerImporter(store: store).load(spec(try source(f, "v1.geojson", Self.good)))
        let broken: [(String, String, String, Double, Double, Double, Double)] = [
            ("B1", "0199", "331102001001", 100, 0, 0, 100),  // no such code
            ("B2", "0101", "331102001001", 100, 1.2, 120, -20),  // KCXS past 1
            ("B3", "0102", "331102001001", 100, 0.1, 10, 95),  // 95 ≠ 100 − 10
            ("B4", "0103", "3311020010", 100, 0, 0, 100)  // 10 digits
        ]
        for row in broken {
            let path = try source(f, "\(row.0).geojson", Self.good + [row])
            do {
                _ = try LayerImporter(store: store).load(spec(path))
                Issue.record("\(row.0) loaded")
            } catch {
                let message = "\(error)"
                #expect(message.contains("BSM=\(row.0)") || message.contains(row.0), "\(message)")
                #expect(message.contains("1 features break the 三调 rules"), "\(message)")
                #expect(!message.contains("T1"), "only the broken feature is named: \(message)")
            }
        }
        #expect(try store.layer(named: "landuse").version.number == 1, "the old version stays")
    }

    @Test func reportLoadsAndListsWhatIsWrong() throws {
        let f = try Fixtures()
        let store = try f.store()
        let path = try source(f, "r.geojson", Self.good + [("B1", "0199", "33110200100", 100, 0, 0, 100)])
        let report = try LayerImporter(store: store).load(spec(path, onError: .report))
        #expect(report.count == 4)
        let warning = try #require(report.warnings.first { $0.contains("三调") })
        #expect(warning.contains("'0199' is not a 三调 地类编码") && warning.contains("is not 12 digits") && warning.contains("report"))
    }

    @Test func aMissingOrMisnamedCodeFieldIsRefusedAtOnce() throws {
        let f = try Fixtures()
        let store = try f.store()
        let path = try source(f, "m.geojson", Self.good)
        do {
            _ = try LayerImporter(store: store).load(spec(path, codeField: "dlbm"))
            Issue.record("a misnamed code field was accepted")
        } catch {
            #expect("\(error)".contains("land_use.code_field 'dlbm'") && "\(error)".contains("there is 'DLBM'"), "\(error)")
        }
    }

    @Test func theCatalogNamesTheFields() throws {
        let yaml = """
            name: landuse
            title: 地类图斑
            kind: land_use
            source: dltb.gpkg
            land_use:
              code_field: DLBM_3D
              unit_field: ZLDM
              on_error: report
            """
        let spec = try Catalog.parse(yaml: yaml, file: "/tmp/landuse.yaml")
        #expect(spec.landUse?.codeField == "DLBM_3D" && spec.landUse?.unitField == "ZLDM" && spec.landUse?.onError == .report)
        #expect(
            try Catalog.parse(yaml: "name: l\ntitle: t\nkind: land_use\nsource: a.gpkg", file: "/tmp/l.yaml").landUse == LandUseFields())
        #expect(throws: CatalogError.self) {
            try Catalog.parse(yaml: "name: f\ntitle: t\nkind: farmland\nsource: a.gpkg\nland_use: {code_field: DLBM}", file: "/tmp/f.yaml")
        }
        do {
            _ = try Catalog.parse(yaml: yaml + "\n  area_field: X", file: "/tmp/landuse.yaml")
            Issue.record("an unknown land_use key was accepted")
        } catch {
            #expect("\(error)".contains("land_use.area_field"), "\(error)")
        }
    }

    /// A land-use rule names its 地类, each of which must exist; without codes it is refused,
    /// since every site lies on some 图斑.
    @Test func aLandUseRuleNamesItsClasses() throws {
        let base = "name: landuse\ntitle: 地类图斑\nkind: land_use\nsource: dltb.gpkg\n"
        let spec = try Catalog.parse(yaml: base + "rule: {severity: restricted, codes: [\"01*\", \"1104\"]}", file: "/tmp/l.yaml")
        #expect(spec.rule?.codes == ["01*", "1104"] && spec.rule?.summary == "restricted inside on 地类 01*, 1104")
        for (yaml, said) in [
            ("rule: {severity: restricted}", "must name the 地类"),
            ("rule: {severity: restricted, codes: [\"0199\"]}", "'0199' names no 地类编码"),
            ("rule: {severity: restricted, codes: []}", "must be a list")
        ] {
            do {
                _ = try Catalog.parse(yaml: base + yaml, file: "/tmp/l.yaml")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect("\(error)".contains(said), "\(error)")
            }
        }
        #expect(throws: CatalogError.self) {
            try Catalog.parse(
                yaml: "name: f\ntitle: t\nkind: farmland\nsource: a.gpkg\nrule: {severity: forbidden, codes: [\"01*\"]}",
                file: "/tmp/f.yaml")
        }
    }
}
