import Foundation
import FuzzSupport
import GeoCore
import Testing
import VectorIO

/// A yearly update (年度变更) of 永久基本农田 as a user makes it with the `onemap` binary,
/// both ways the README gives: `onemap import` of the new file, and `onemap load --layers`
/// after pointing the catalog at it. The verdict on a site over a parcel stays forbidden.
struct YearlyUpdateCLITests {
    let dir = NSTemporaryDirectory() + "onemap-yearly-" + UUID().uuidString
    var db: String { dir + "/onemap.sqlite" }

    func onemap(_ args: [String]) throws -> OneMapCommand.Run { try OneMapCommand.run(args + ["--db", db]) }

    /// A GeoPackage of ten parcels; the first lies under the test site.
    func farmland(_ name: String, layer: String, firstID: String) throws -> String {
        let path = dir + "/" + name
        let w = try VectorWriter(
            path: path, format: .geoPackage, layerName: layer, crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text)])
        for i in 0..<10 {
            let x = 120.0 + Double(i) * 0.002
            try w.write(
                geometry: .polygon(
                    Polygon([
                        [
                            Coordinate(x, 28), Coordinate(x + 0.001, 28), Coordinate(x + 0.001, 28.001),
                            Coordinate(x, 28.001), Coordinate(x, 28)
                        ]
                    ])),
                attributes: [.text(i == 0 ? firstID : "F\(i)"), .text("水田")])
        }
        try w.close()
        return path
    }

    func catalog(source: String, layer: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/Layers", withIntermediateDirectories: true)
        try """
        name: farmland
        title: 永久基本农田
        kind: farmland
        source: \(source)
        source_layer: \(layer)
        id_field: BSM
        rule:
          severity: forbidden
          when: inside
        """.write(toFile: dir + "/Layers/farmland.yaml", atomically: true, encoding: .utf8)
    }

    /// The check's verdict and the farmland layer's entry in its answer.
    func check() throws -> (verdict: String?, farmland: [String: Any]?) {
        let site = dir + "/site.geojson"
        try
            #"{"type": "Polygon", "coordinates": [[[119.9995, 27.9995], [120.0015, 27.9995], [120.0015, 28.0015], [119.9995, 28.0015], [119.9995, 27.9995]]]}"#
            .write(toFile: site, atomically: true, encoding: .utf8)
        let run = try onemap(["check", site, "--format", "json", "--no-record"])
        let json = run.json as? [String: Any]
        let farmland = (json?["layers"] as? [[String: Any]])?.first { $0["layer"] as? String == "farmland" }
        return (json?["verdict"] as? String, farmland)
    }

    @Test func importAndLoadOfANewYearKeepTheRule() throws {
        try #require(OneMapCommand.isBuilt, "build the onemap binary first (make test does)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try catalog(source: try farmland("farmland_2025.gpkg", layer: "yjjbnt", firstID: "P2025"), layer: "yjjbnt")
        #expect(try onemap(["load", "--catalog", dir + "/Layers", "--json"]).status == 0)
        #expect(try check().verdict == "forbidden")

        // The documented command, with this year's file and its own layer name.
        let v2026 = try farmland("farmland_2026.gpkg", layer: "YJJBNTTB", firstID: "P2026")
        let imported = try onemap([
            "import", v2026, "--layer", "farmland", "--source-layer", "YJJBNTTB", "--id-field", "BSM",
            "--version", "2026年度变更"
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("warning: this layer is defined in"))
        var after = try check()
        #expect(after.verdict == "forbidden")
        #expect(after.farmland?["versionLabel"] as? String == "2026年度变更")
        #expect((after.farmland?["features"] as? [[String: Any]])?.first?["id"] as? String == "P2026")

        // `onemap layers` says what each layer is checked with.
        let layers = try onemap(["layers"])
        #expect(layers.stdout.contains("永久基本农田") && layers.stdout.contains("rule: forbidden inside"))
        let listed = try onemap(["layers", "--json"]).json as? [[String: Any]]
        let entry = listed?.first { $0["name"] as? String == "farmland" }
        #expect(entry?["kind"] as? String == "farmland" && entry?["rule"] as? String == "forbidden inside")

        // An option that would change the definition is refused, and nothing is loaded.
        let refused = try onemap(["import", v2026, "--layer", "farmland", "--source-layer", "YJJBNTTB", "--kind", "other"])
        #expect(refused.status != 0 && refused.stderr.contains("--redefine"), "\(refused.stderr)")
        #expect(try onemap(["versions", "farmland", "--json"]).json.map { ($0 as? [Any])?.count } == 2)

        // The catalog way: point the YAML at next year's file and load that layer.
        try catalog(source: try farmland("farmland_2027.gpkg", layer: "YJJBNTTB", firstID: "P2027"), layer: "YJJBNTTB")
        #expect(try onemap(["load", "--catalog", dir + "/Layers", "--layers", "farmland", "--version", "2027年度变更"]).status == 0)
        after = try check()
        #expect(after.verdict == "forbidden")
        #expect(after.farmland?["version"] as? Int == 3 && after.farmland?["severity"] as? String == "forbidden")
    }
}
