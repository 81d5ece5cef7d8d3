import Foundation
import GeoCore
import LayerStore
import VectorIO

@testable import Conflicts

/// Tiny hand-made layers near 120°E 28°N, loaded into a fresh store.
struct ConflictFixtures {
    let dir: String
    let store: Store

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-conflicts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try Store(path: dir + "/test.sqlite")
    }

    static func box(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Polygon {
        Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]])
    }

    /// Writes features (id, geometry, extra text fields) to GeoJSON and loads them with a rule.
    func layer(
        _ name: String, kind: LayerKind = .farmland, rule: Rule, geometryType: String = "Polygon",
        fields: [String] = [], label: String? = nil, _ features: [(String, Geometry, [String])]
    ) throws {
        let path = "\(dir)/\(name).geojson"
        let defs = [FieldDefinition(name: "BSM", type: .text)] + fields.map { FieldDefinition(name: $0, type: .text) }
        let w = try VectorWriter(path: path, format: .geoJSON, layerName: name, crs: "EPSG:4490", geometryType: geometryType, fields: defs)
        for (id, g, values) in features { try w.write(geometry: g, attributes: [.text(id)] + values.map { .text($0) }) }
        try w.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(name: name, title: name, kind: kind, source: path, idField: "BSM", rule: rule), label: label)
    }

    /// A land-use layer (no rule) of 图斑 given as (id, polygon, DLBM, KCXS), with their
    /// 坐落单位代码 (ZLDWDM) when `units` gives them (one per 图斑).
    func landUse(
        _ name: String = "landuse", _ parcels: [(String, Polygon, String, Double)], rule: Rule? = nil,
        onError: LandUseFields.OnError = .fail, units: [String] = []
    ) throws {
        let path = "\(dir)/\(name).geojson"
        let defs =
            ["BSM", "DLBM", "KCDLBM"].map { FieldDefinition(name: $0, type: .text) } + [FieldDefinition(name: "KCXS", type: .real)]
            + (units.isEmpty ? [] : [FieldDefinition(name: "ZLDWDM", type: .text)])
        let w = try VectorWriter(path: path, format: .geoJSON, layerName: name, crs: "EPSG:4490", geometryType: "Polygon", fields: defs)
        for (k, (id, p, code, ratio)) in parcels.enumerated() {
            try w.write(
                geometry: .polygon(p),
                attributes: [.text(id), .text(code), .text("1203"), .real(ratio)] + (units.isEmpty ? [] : [.text(units[k])]))
        }
        try w.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(
                name: name, title: "地类图斑", kind: .landUse, source: path, idField: "BSM", rule: rule,
                landUse: LandUseFields(onError: onError)))
    }

    /// `manySites`: as a checker of many sites checks (the CLI's --each, the server), with what
    /// it keeps in memory.
    func check(_ polygons: [Polygon], layers: [String]? = nil, keepPieces: Bool = true, manySites: Bool = false) throws -> CheckResult {
        let site = try Site.make(polygons: polygons.enumerated().map { ($1, "polygon \($0)") }, crs: nil, limits: SiteLimits())
        return try ConflictChecker(store: store, boxesInMemory: manySites).check(site, layers: layers, keepPieces: keepPieces).result
    }
}

extension CheckResult {
    func layer(_ name: String) -> LayerConflict? { layers.first { $0.layer == name } }
}
