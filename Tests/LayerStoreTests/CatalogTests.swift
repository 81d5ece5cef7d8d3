import Foundation
import Testing

@testable import LayerStore

struct CatalogTests {
    let valid = """
        name: nature_reserve
        title: 自然保护地
        kind: protected_area
        source: ../sampledata/protected_area.geojson
        source_crs: EPSG:4490
        id_field: BSM
        access: restricted
        rule:
          severity: restricted
          when: inside
          message: 自然保护地内限制建设
          by_field:
            field: GNFQ
            values:
              核心区: forbidden
              缓冲区: forbidden
              实验区: restricted
        """

    @Test func parsesEveryKey() throws {
        let spec = try Catalog.parse(yaml: valid, file: "/cat/Layers/reserve.yaml")
        #expect(spec.name == "nature_reserve")
        #expect(spec.title == "自然保护地")
        #expect(spec.kind == .protectedArea)
        #expect(spec.source == "/cat/sampledata/protected_area.geojson")
        #expect(spec.access == .restricted)
        #expect(spec.idField == "BSM")
        #expect(spec.rule?.severity == .restricted)
        #expect(spec.rule?.byField?.values["核心区"] == .forbidden)
        #expect(spec.rule?.byField?.values["实验区"] == .restricted)
        #expect(spec.rule?.byField?.otherwise == nil)
    }

    /// `otherwise` gives the severity of values the table does not name; a bad one is named.
    @Test func byFieldOtherwise() throws {
        let yaml = valid + "\n    otherwise: forbidden"
        let spec = try Catalog.parse(yaml: yaml, file: "/cat/Layers/reserve.yaml")
        #expect(spec.rule?.byField?.otherwise == .forbidden)
        #expect(spec.rule?.byField?.severity(of: "核心保护区") == .forbidden)
        #expect(spec.rule?.byField?.severity(of: nil) == .forbidden)
        #expect(spec.rule?.byField?.severity(of: "实验区") == .restricted)
        #expect(spec.rule?.summary == "restricted inside (by GNFQ: 实验区 restricted, 核心区 forbidden, 缓冲区 forbidden; otherwise forbidden)")
        #expect(error(valid + "\n    otherwise: never")?.key == "rule.by_field.otherwise")
    }

    func error(_ yaml: String) -> CatalogError? {
        do {
            _ = try Catalog.parse(yaml: yaml, file: "Layers/x.yaml")
            return nil
        } catch let e as CatalogError { return e } catch { return nil }
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let e = error(valid.replacingOccurrences(of: "  when: inside", with: "  whn: inside"))
        #expect(e?.file == "Layers/x.yaml")
        #expect(e?.key == "rule.whn")
        #expect(e?.line == 10)
        #expect(e?.description.contains("Layers/x.yaml:10: key 'rule.whn'") == true)
    }

    @Test func badValuesAreNamed() {
        #expect(error(valid.replacingOccurrences(of: "kind: protected_area", with: "kind: forest"))?.key == "kind")
        #expect(error(valid.replacingOccurrences(of: "name: nature_reserve", with: "name: Nature-Reserve"))?.key == "name")
        #expect(error(valid.replacingOccurrences(of: "缓冲区: forbidden", with: "缓冲区: banned"))?.key == "rule.by_field.values.缓冲区")
        #expect(error(valid.replacingOccurrences(of: "source_crs: EPSG:4490", with: "source_crs: EPSG:999999"))?.key == "source_crs")
        #expect(error(valid.replacingOccurrences(of: "access: restricted", with: "access: secret"))?.key == "access")
        #expect(error(valid + "\n  buffer_m: -5")?.key == "rule.buffer_m")
        #expect(error("name: a\nkind: farmland\nsource: x.shp")?.key == "title")
        #expect(error("- just\n- a list")?.description.contains("mapping") == true)
    }

    @Test func folderRejectsDuplicateNames() throws {
        let f = try Fixtures()
        try valid.write(toFile: f.path("a.yaml"), atomically: true, encoding: .utf8)
        try valid.write(toFile: f.path("b.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: CatalogError.self) { try Catalog.load(directory: f.dir) }
        try FileManager.default.removeItem(atPath: f.path("b.yaml"))
        #expect(try Catalog.load(directory: f.dir).layers.map(\.name) == ["nature_reserve"])
    }
}
