import Foundation
import GRDB
import GeoCore
import LayerStore
import Testing
import VectorIO

@testable import SampleData

/// One small sample shared by the tests (generating it takes a few seconds).
final class SmallSample: Sendable {
    static let shared = SmallSample()
    static let farmland = 3000
    let dir: String
    let error: Error?

    private init() {
        dir = NSTemporaryDirectory() + "onemap-sample-" + UUID().uuidString
        do {
            var g = try SampleGenerator(options: .init(out: dir, seed: 7, farmlandCount: Self.farmland, adminPath: SmallSample.adminPath))
            _ = try g.run()
            error = nil
        } catch { self.error = error }
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var adminPath: String { repoRoot.appendingPathComponent("sampledata/lishui_admin.geojson").path }

    func path(_ name: String) throws -> String {
        if let error { throw error }
        return (dir as NSString).appendingPathComponent(name)
    }

    func read(_ name: String, layer: String? = nil) throws -> [SourceFeature] {
        let src = try VectorSource(path: try path(name), layer: layer)
        var out: [SourceFeature] = []
        while let f = try src.next() { out.append(f) }
        return out
    }
}

struct SampleTests {
    let sample = SmallSample.shared

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let a = NSTemporaryDirectory() + "onemap-det-a-" + UUID().uuidString
        let b = NSTemporaryDirectory() + "onemap-det-b-" + UUID().uuidString
        let c = NSTemporaryDirectory() + "onemap-det-c-" + UUID().uuidString
        for (dir, seed) in [(a, UInt64(11)), (b, 11), (c, 12)] {
            var g = try SampleGenerator(options: .init(out: dir, seed: seed, farmlandCount: 800, adminPath: SmallSample.adminPath))
            _ = try g.run()
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: a).filter { !$0.hasSuffix("projects") }.sorted()
        #expect(files.count >= 15)
        for f in files {
            let da = try Data(contentsOf: URL(fileURLWithPath: a + "/" + f))
            let db = try Data(contentsOf: URL(fileURLWithPath: b + "/" + f))
            #expect(da == db, "\(f) differs between two runs with the same seed")
        }
        let fa = try Data(contentsOf: URL(fileURLWithPath: a + "/farmland.gpkg"))
        let fc = try Data(contentsOf: URL(fileURLWithPath: c + "/farmland.gpkg"))
        #expect(fa != fc)
    }

    @Test func countsAskedAreCountsMade() throws {
        #expect(try sample.read("farmland.gpkg").count == SmallSample.farmland)
        #expect(try sample.read("ecological_redline.shp").count == 60)
        #expect(try sample.read("urban_boundary.geojson").count == 27)
        #expect(try sample.read("protected_area.geojson").count == 6)
        #expect(try sample.read("water_source.geojson").count == 4)
        #expect(try sample.read("pipeline.geojson").count == 6)
    }

    @Test func formatsAndFieldsAreWhatUsersReceive() throws {
        let farmland = try VectorSource(path: try sample.path("farmland.gpkg"))
        #expect(farmland.driver == "GPKG" && farmland.declaredCRS == "EPSG:4528")
        #expect(farmland.fields.map(\.name) == ["BSM", "TBBH", "DLBM", "DLMC", "ZLDWMC", "XZQDM", "TBMJ"])
        let red = try VectorSource(path: try sample.path("ecological_redline.shp"))
        #expect(red.driver == "ESRI Shapefile")
        #expect(!FileManager.default.fileExists(atPath: try sample.path("ecological_redline.cpg")))
        let types = try sample.read("ecological_redline.shp").compactMap { f -> String? in
            if case .text(let s) = f.attributes[2] { return s } else { return nil }
        }
        #expect(Set(types).isSubset(of: ["水源涵养", "生物多样性维护", "水土保持"]) && Set(types).count == 3)
        let parcels = try sample.read("farmland.gpkg")
        let areas = parcels.compactMap { f -> Double? in if case .real(let a) = f.attributes[6] { return a } else { return nil } }
        #expect(areas.min()! >= 1_000 && areas.max()! <= 30_000, "parcels are 0.1–3 ha")
        #expect(parcels.contains { ($0.geometry?.polygons.first?.rings.count ?? 0) > 1 }, "some parcels have a hole")
        let zones = Set(
            try sample.read("protected_area.geojson").compactMap { f -> String? in
                if case .text(let s) = f.attributes[2] { return s } else { return nil }
            })
        #expect(zones == ["核心区", "缓冲区", "实验区"])
    }

    /// Within one layer nothing overlaps (touching is allowed).
    @Test func noOverlapsWithinALayer() throws {
        let e = GeometryEngine()
        for (file, dim) in [
            ("farmland.gpkg", 2), ("ecological_redline.shp", 2), ("urban_boundary.geojson", 2),
            ("protected_area.geojson", 2), ("water_source.geojson", 2)
        ] {
            let feats = try sample.read(file).compactMap { $0.geometry }
            let valid = try feats.map { g -> EngineGeometry in
                let eg = try e.make(g)
                return try e.invalidityReason(eg) == nil ? eg : e.makeValid(eg)
            }
            let boxes = feats.map { $0.boundingBox! }
            let order = boxes.indices.sorted { boxes[$0].minX < boxes[$1].minX }
            var overlaps = 0
            for (k, i) in order.enumerated() {
                var m = k + 1
                while m < order.count, boxes[order[m]].minX <= boxes[i].maxX {
                    let j = order[m]
                    if boxes[i].intersects(boxes[j]), try valid[i].intersects(valid[j]) {
                        let area = try valid[i].intersection(valid[j]).planarArea()
                        if area > 1e-12 { overlaps += 1 }  // ~ 0.01 m² in degrees² or m²
                    }
                    m += 1
                }
            }
            #expect(overlaps == 0, Comment(rawValue: "\(file): \(overlaps) overlapping pairs"))
            _ = dim
        }
    }

    /// Everything imports, and every stored geometry is valid (the broken rings are repaired).
    @Test func everyFeatureValidAfterImportAndConflictsExist() throws {
        let store = try Store(path: try sample.path("import.sqlite"))
        let specs: [LayerSpec] = [
            LayerSpec(name: "farmland", title: "永久基本农田", kind: .farmland, source: try sample.path("farmland.gpkg"), idField: "BSM"),
            LayerSpec(
                name: "ecological_redline", title: "生态保护红线", kind: .ecologicalRedline, source: try sample.path("ecological_redline.shp"),
                encoding: "GBK", idField: "BSM"),
            LayerSpec(
                name: "urban_boundary", title: "城镇开发边界", kind: .urbanBoundary, source: try sample.path("urban_boundary.geojson"),
                idField: "BSM"),
            LayerSpec(
                name: "protected_area", title: "自然保护地", kind: .protectedArea, source: try sample.path("protected_area.geojson"),
                idField: "BSM"),
            LayerSpec(
                name: "water_source", title: "饮用水水源保护区", kind: .waterSource, source: try sample.path("water_source.geojson"), idField: "BSM"
            ),
            LayerSpec(name: "pipeline", title: "油气管道", kind: .pipeline, source: try sample.path("pipeline.geojson"), idField: "BSM")
        ]
        var repaired = 0
        for spec in specs {
            let r = try LayerImporter(store: store).load(spec)
            repaired += r.repaired
            try store.pool.read { (db: Database) throws in
                let invalid = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM lyr_\(spec.name)_1 WHERE ST_IsValid(geom) <> 1")
                #expect(invalid == 0, "\(spec.name) has invalid geometry after import")
            }
        }
        #expect(repaired >= 1, "the sample carries a few broken rings, repaired on import")
        // The deliberate cross-layer conflicts, in SpatiaLite SQL.
        func overlaps(_ a: String, _ b: String, _ predicate: String = "ST_Intersects(x.geom, y.geom)") throws -> Int {
            try store.pool.read { db in
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM lyr_\(a)_1 x JOIN lyr_\(b)_1 y
                        ON x.om_minx <= y.om_maxx AND y.om_minx <= x.om_maxx AND x.om_miny <= y.om_maxy AND y.om_miny <= x.om_maxy
                        WHERE \(predicate)
                        """) ?? 0
            }
        }
        let overlapArea = "ST_Area(ST_Intersection(x.geom, y.geom)) > 1e-10"
        #expect(try overlaps("farmland", "ecological_redline", overlapArea) > 0, "farmland inside red lines")
        #expect(try overlaps("urban_boundary", "farmland", overlapArea) > 0, "urban boundary over farmland")
        #expect(try overlaps("pipeline", "protected_area") > 0, "a pipeline through a reserve")
    }
}

/// The land-use generator's split cells: two triangles inside the cell, covering it.
struct LandUseSplitTests {
    static func twiceArea(_ ring: [Coordinate]) -> Double {
        zip(ring, ring.dropFirst()).reduce(0) { $0 + $1.0.x * $1.1.y - $1.1.x * $1.0.y }
    }

    @Test func aConcaveCellIsSplitAlongTheDiagonalInsideIt() {
        let a = Coordinate(0, 0), b = Coordinate(10, 0), c = Coordinate(10, 10)
        for d in [Coordinate(7, 3), Coordinate(0, 10), Coordinate(2, 9), Coordinate(4, 4.5)] {
            let quad = Self.twiceArea([a, b, c, d, a])
            let parts = LandUseGenerator.triangles(a, b, c, d)
            #expect(parts.count == 2)
            #expect(parts.allSatisfy { Self.twiceArea($0) > 0 }, "d \(d): a triangle turned inside out")
            #expect(abs(parts.map(Self.twiceArea).reduce(0, +) - quad) < 1e-9, "d \(d): the triangles do not cover the cell")
        }
    }
}
