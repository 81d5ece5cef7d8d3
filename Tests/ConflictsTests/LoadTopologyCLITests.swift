import Foundation
import FuzzSupport
import GeoCore
import Testing
import VectorIO

/// `onemap load` reports a land-use layer's topology as a user sees it: in its JSON report
/// (beside the import's own keys) and, asked, as a GeoPackage with the shapes; and skips it
/// with --no-topology.
struct LoadTopologyCLITests {
    let dir = NSTemporaryDirectory() + "onemap-load-topology-" + UUID().uuidString
    var db: String { dir + "/onemap.sqlite" }

    func onemap(_ args: [String]) throws -> OneMapCommand.Run { try OneMapCommand.run(args + ["--db", db]) }

    func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> String {
        "[[[\(x0),\(y0)],[\(x1),\(y0)],[\(x1),\(y1)],[\(x0),\(y1)],[\(x0),\(y0)]]]"
    }

    /// Two counties side by side; four 图斑: T1 over T2 by a strip 0.001° wide, and a gap
    /// between T2 and T3 that T4 fills by half.
    func catalog() throws {
        try FileManager.default.createDirectory(atPath: dir + "/Layers", withIntermediateDirectories: true)
        func feature(_ properties: String, _ rings: String) -> String {
            #"{"type":"Feature","properties":{\#(properties)},"geometry":{"type":"Polygon","coordinates":\#(rings)}}"#
        }
        let counties = [
            feature(#""XZQDM":"331102","XZQMC":"莲都区""#, square(120.000, 28.000, 120.010, 28.010)),
            feature(#""XZQDM":"331121","XZQMC":"青田县""#, square(120.010, 28.000, 120.020, 28.010))
        ]
        let tubans = [
            ("T1", "0101", square(120.000, 28.000, 120.006, 28.010)), ("T2", "0301", square(120.005, 28.000, 120.012, 28.010)),
            ("T3", "0702", square(120.013, 28.000, 120.020, 28.010)), ("T4", "1101", square(120.012, 28.000, 120.013, 28.005))
        ].map { feature(#""BSM":"\#($0.0)","DLBM":"\#($0.1)","KCDLBM":"1203","KCXS":0"#, $0.2) }
        for (name, features) in [("admin", counties), ("landuse", tubans)] {
            try #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
                .write(toFile: "\(dir)/\(name).geojson", atomically: true, encoding: .utf8)
        }
        try "name: admin\ntitle: 行政区划\nkind: admin\nsource: ../admin.geojson\nid_field: XZQDM\nlabel_field: XZQMC\n"
            .write(toFile: dir + "/Layers/admin.yaml", atomically: true, encoding: .utf8)
        try "name: landuse\ntitle: 地类图斑\nkind: land_use\nsource: ../landuse.geojson\nid_field: BSM\nland_use:\n  on_error: fail\n"
            .write(toFile: dir + "/Layers/landuse.yaml", atomically: true, encoding: .utf8)
    }

    @Test func loadReportsOverlapsAndGaps() throws {
        try #require(OneMapCommand.isBuilt, "build the onemap binary first (make test does)")
        try catalog()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gpkg = dir + "/topology.gpkg"
        let run = try onemap(["load", "--catalog", dir + "/Layers", "--json", "--topology-gpkg", gpkg])
        #expect(run.status == 0, "\(run.stderr)")
        let reports = try #require(run.json as? [[String: Any]])
        #expect(reports.first { $0["layer"] as? String == "admin" }?["topology"] == nil, "only land-use layers have one")
        let landuse = try #require(reports.first { $0["layer"] as? String == "landuse" })
        #expect(landuse["count"] as? Int == 4, "the import's own keys stay")
        let topology = try #require(landuse["topology"] as? [String: Any])
        let overlaps = try #require(topology["overlaps"] as? [String: Any])
        let gaps = try #require(topology["gaps"] as? [String: Any])
        #expect(overlaps["count"] as? Int == 1 && gaps["count"] as? Int == 1)
        let e = Ellipsoid.cgcs2000
        func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Geometry {
            .polygon(Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]]))
        }
        let strip = e.area(square(120.005, 28.000, 120.006, 28.010)), hole = e.area(square(120.012, 28.005, 120.013, 28.010))
        #expect(abs((overlaps["areaM2"] as? Double ?? 0) - strip) < 1e-6 * strip)
        #expect(abs((gaps["areaM2"] as? Double ?? 0) - hole) < 1e-6 * hole)
        let item = (overlaps["items"] as? [[String: Any]])?.first
        #expect(item?["ids"] as? [String] == ["T1", "T2"] && item?["county"] as? String == "331102")

        // The GeoPackage holds both, with their shapes and areas.
        let reader = try VectorSource(path: gpkg, layer: "topology")
        var kinds: [String: Double] = [:]
        while let f = try reader.next() {
            kinds[f.attributes[0].stringValue ?? "", default: 0] += f.geometry.map { e.area($0) } ?? 0
        }
        #expect(abs((kinds["overlap"] ?? 0) - strip) < 1e-6 * strip && abs((kinds["gap"] ?? 0) - hole) < 1e-6 * hole)

        let skipped = try onemap(["load", "--catalog", dir + "/Layers", "--json", "--no-topology"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect((skipped.json as? [[String: Any]])?.allSatisfy { $0["topology"] == nil } == true)
        let human = try onemap(["load", "--catalog", dir + "/Layers", "--layers", "landuse"])
        #expect(human.stdout.contains("topology: landuse #3: 1 overlaps"), "\(human.stdout)")
    }

    /// A farmland import onto a store with land use works out the 地类 under its parcels, as a
    /// load does, and says so in its report.
    @Test func importOfFarmlandWorksOutTheLandUseUnderItsParcels() throws {
        try #require(OneMapCommand.isBuilt, "build the onemap binary first (make test does)")
        try catalog()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = try onemap(["load", "--catalog", dir + "/Layers", "--json", "--no-topology"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect((load.json as? [[String: Any]])?.allSatisfy { $0["parcelLandUse"] == nil } == true, "no farmland yet")
        let parcels = [
            ("P1", square(120.001, 28.001, 120.002, 28.002)), ("P2", square(120.0055, 28.001, 120.0065, 28.002))
        ].map { #"{"type":"Feature","properties":{"BSM":"\#($0.0)"},"geometry":{"type":"Polygon","coordinates":\#($0.1)}}"# }
        try #"{"type":"FeatureCollection","features":[\#(parcels.joined(separator: ","))]}"#
            .write(toFile: dir + "/farmland.geojson", atomically: true, encoding: .utf8)
        let run = try onemap([
            "import", dir + "/farmland.geojson", "--layer", "farmland", "--kind", "farmland", "--id-field", "BSM", "--json"
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(run.json as? [String: Any])
        let pieces = try #require(report["parcelLandUse"] as? [String: Any], "\(run.stdout)")
        // P1 lies in T1; P2 across T1 and T2 (where they overlap, it has a piece of each).
        #expect(pieces["parcels"] as? Int == 2 && pieces["parcelsInOne"] as? Int == 1 && pieces["pieces"] as? Int == 3)
        #expect(report["count"] as? Int == 2, "the import's own keys stay")
    }
}
