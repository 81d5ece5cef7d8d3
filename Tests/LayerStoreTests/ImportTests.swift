import Foundation
import FuzzSupport
import GRDB
import GeoCore
import Testing
import VectorIO

@testable import LayerStore

struct ImportTests {
    func spec(
        _ f: Fixtures, _ source: String, name: String = "farmland", idField: String? = "BSM",
        crs: String? = nil, encoding: String? = nil
    ) -> LayerSpec {
        LayerSpec(
            name: name, title: "永久基本农田", kind: .farmland, source: source, sourceCRS: crs,
            encoding: encoding, idField: idField)
    }

    func importError(_ store: Store, _ spec: LayerSpec) -> StoreError? {
        do {
            _ = try LayerImporter(store: store).load(spec)
            return nil
        } catch let e as StoreError { return e } catch { return nil }
    }

    @Test func geoJSONWithAreasBoxesAndIndex() throws {
        let f = try Fixtures()
        let src = try f.geoJSON("parcels.geojson", count: 5)
        let store = try f.store()
        let report = try LayerImporter(store: store).load(spec(f, src))
        #expect(report.count == 5 && report.version == 1 && report.repaired == 0)
        let layer = try store.layer(named: "farmland")
        #expect(layer.version.count == 5)
        #expect(layer.version.geometryType == "MultiPolygon")
        let box = try #require(layer.version.bbox)
        #expect(abs(box.minX - 119.9) < 1e-12 && abs(box.maxX - 119.9045) < 1e-12)
        let expected = Ellipsoid.cgcs2000.area(Fixtures.square(119.9, 28.4, 0.0005))
        try store.pool.read { (db: Database) throws in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT om_area_m2, BSM, DLMC, geom FROM lyr_farmland_1 WHERE om_id = 'P1'"))
            #expect(abs((row["om_area_m2"] as Double) - expected) < 1e-6)
            #expect(row["DLMC"] as String == "水田")
            let g = try SpatiaLiteGeometry.decode(row["geom"])
            let want = Fixtures.square(119.9, 28.4, 0.0005).polygons[0].exterior  // GeoJSON keeps 15 digits
            #expect(zip(g.polygons[0].exterior, want).allSatisfy { abs($0.x - $1.x) < 1e-12 && abs($0.y - $1.y) < 1e-12 })
            // SpatiaLite itself reads what we wrote, and its index finds it.
            #expect(try Int.fetchOne(db, sql: "SELECT ST_IsValid(geom) FROM lyr_farmland_1 WHERE om_id = 'P1'") == 1)
            let hits = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM lyr_farmland_1 WHERE om_fid IN (SELECT rowid FROM SpatialIndex
                    WHERE f_table_name = 'lyr_farmland_1' AND search_frame = BuildMbr(119.9011, 28.4001, 119.9012, 28.4002))
                    """)
            #expect(hits == 1)
            // GIS tools read a layer's count and extent from SpatiaLite's statistics (QGIS's
            // SpatiaLite provider shows an empty layer without them).
            let stats = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT row_count, extent_min_x, extent_min_y, extent_max_x, extent_max_y FROM vector_layers_statistics
                        WHERE table_name = 'lyr_farmland_1' AND geometry_column = 'geom'
                        """))
            #expect(stats[0] as Int == 5)
            #expect(
                stats[1] as Double == box.minX && stats[2] as Double == box.minY && stats[3] as Double == box.maxX
                    && stats[4] as Double == box.maxY)
        }
        // CheckSpatialIndex writes its findings, so it needs the writer.
        try store.pool.write { (db: Database) throws in
            #expect(try Int.fetchOne(db, sql: "SELECT CheckSpatialIndex('lyr_farmland_1', 'geom')") == 1)
        }
    }

    @Test func gbkShapefileWithoutCPG() throws {
        let f = try Fixtures()
        let shp = f.path("红线.shp")
        let fields = [
            FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "HXMC", type: .text),
            FieldDefinition(name: "HXLX", type: .text)
        ]
        let w = try VectorWriter(
            path: shp, format: .shapefile, layerName: "红线", crs: "EPSG:4490",
            geometryType: "Polygon", fields: fields, rawEncoding: "CP936")
        try w.write(geometry: Fixtures.square(119.5, 28.2, 0.01), attributes: [.text("HX001"), .text("瓯江源头水源涵养红线"), .text("水源涵养")])
        try w.write(geometry: Fixtures.square(119.6, 28.2, 0.01), attributes: [.text("HX002"), .text("百山祖生物多样性维护红线"), .text("生物多样性维护")])
        try w.close()
        // The fixture is what the issue describes: GBK bytes, no .cpg, no code page in the .dbf.
        #expect(!FileManager.default.fileExists(atPath: f.path("红线.cpg")))
        let dbf = try Data(contentsOf: URL(fileURLWithPath: f.path("红线.dbf")))
        #expect(dbf[29] == 0)
        let gbk = Data([0xCB, 0xAE, 0xD4, 0xB4, 0xBA, 0xAD, 0xD1, 0xF8])  // "水源涵养" in GBK
        #expect(dbf.range(of: gbk) != nil)

        let store = try f.store()
        let report = try LayerImporter(store: store).load(spec(f, shp, name: "redline"))
        #expect(report.count == 2)
        try store.pool.read { (db: Database) throws in
            let names = try String.fetchAll(db, sql: "SELECT HXMC FROM lyr_redline_1 ORDER BY om_id")
            #expect(names == ["瓯江源头水源涵养红线", "百山祖生物多样性维护红线"])
        }
        // An explicit encoding works too.
        let again = try LayerImporter(store: store).load(spec(f, shp, name: "redline", encoding: "GBK"))
        try store.pool.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT HXLX FROM lyr_redline_\(again.version) WHERE om_id = 'HX002'") == "生物多样性维护")
        }
    }

    @Test func geoPackageInZone40WithPrefix() throws {
        let f = try Fixtures()
        let gpkg = f.path("farmland.gpkg")
        let lonLat = Fixtures.square(119.92, 28.46, 0.002)
        let toGK = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4528")
        let projected = try toGK.transform(lonLat)
        #expect(projected.boundingBox!.minX > 40_000_000)
        let w = try VectorWriter(
            path: gpkg, format: .geoPackage, layerName: "yjjbnt", crs: "EPSG:4528",
            geometryType: "MultiPolygon", fields: Fixtures.farmlandFields)
        try w.write(geometry: projected.promotedToMulti, attributes: [.text("N1"), .text("旱地"), .real(4.4)])
        try w.close()

        let store = try f.store()
        let report = try LayerImporter(store: store).load(spec(f, gpkg))
        #expect(report.sourceCRS == "EPSG:4528")
        try store.pool.read { (db: Database) throws in
            let blob: Data = try #require(try Data.fetchOne(db, sql: "SELECT geom FROM lyr_farmland_1"))
            let g = try SpatiaLiteGeometry.decode(blob)
            let want = lonLat.polygons[0].exterior, got = g.polygons[0].exterior
            #expect(want.count == got.count)
            for (a, b) in zip(want, got) { #expect(abs(a.x - b.x) < 1e-9 && abs(a.y - b.y) < 1e-9) }
            let area = try #require(try Double.fetchOne(db, sql: "SELECT om_area_m2 FROM lyr_farmland_1"))
            #expect(abs(area - Ellipsoid.cgcs2000.area(lonLat)) < 1e-3)
        }
    }

    @Test func bowTieIsRepairedAndCounted() throws {
        let f = try Fixtures()
        let bowTie = Geometry.polygon(
            Polygon([
                [
                    Coordinate(119.9, 28.4), Coordinate(119.901, 28.401), Coordinate(119.901, 28.4),
                    Coordinate(119.9, 28.401), Coordinate(119.9, 28.4)
                ]
            ]))
        let src = try f.geoJSON(
            "bowtie.geojson", count: 3, geometry: { $0 == 1 ? bowTie : Fixtures.square(119.8 + Double($0) * 0.01, 28.4, 0.001) })
        let store = try f.store()
        let report = try LayerImporter(store: store).load(spec(f, src))
        #expect(report.repaired == 1)
        #expect(report.repairs.first?.contains("BSM=P2") == true)
        #expect(report.repairs.first?.contains("Self-intersection") == true)
        try store.pool.read { (db: Database) throws in
            #expect(try Int.fetchOne(db, sql: "SELECT SUM(ST_IsValid(geom)) FROM lyr_farmland_1") == 3)
            let g = try SpatiaLiteGeometry.decode(
                try #require(try Data.fetchOne(db, sql: "SELECT geom FROM lyr_farmland_1 WHERE om_id = 'P2'")))
            #expect(g.polygons.count == 2)
        }
    }

    @Test func missingIdFieldIsNamedAndChangesNothing() throws {
        let f = try Fixtures()
        let src = try f.geoJSON("p.geojson", count: 2)
        let store = try f.store()
        _ = try LayerImporter(store: store).load(spec(f, src))
        let e = importError(store, spec(f, src, idField: "TBBH"))
        let text = e?.description ?? ""
        #expect(text.contains(src) && text.contains("farmland") && text.contains("TBBH") && text.contains("BSM"))
        #expect(try store.layer(named: "farmland").version.number == 1)
    }

    @Test func duplicateIdsNameBothFeaturesAndChangeNothing() throws {
        let f = try Fixtures()
        let good = try f.geoJSON("good.geojson", count: 3)
        let dup = try f.geoJSON("dup.geojson", count: 4, ids: { $0 == 3 ? "P2" : "P\($0 + 1)" })
        let store = try f.store()
        _ = try LayerImporter(store: store).load(spec(f, good))
        let e = importError(store, spec(f, dup))
        guard case .importFailed(let file, let layer, let feature, let message)? = e else {
            Issue.record("expected an import error, got \(String(describing: e))"); return
        }
        #expect(file == dup && layer == "farmland")
        #expect(feature?.contains("BSM=P2") == true && feature?.contains("FID 3") == true)
        #expect(message.contains("duplicate id 'P2'") && message.contains("first seen at FID 1"))
        let layerNow = try store.layer(named: "farmland")
        #expect(layerNow.version.number == 1 && layerNow.version.count == 3)
        try store.pool.read { (db: Database) throws in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_layer_versions") == 1)
            #expect(try !db.tableExists("lyr_farmland_2"))
        }
    }

    @Test func badSourcesGiveClearErrors() throws {
        let f = try Fixtures()
        let store = try f.store()
        // Unreadable.
        try "this is not a map".write(toFile: f.path("junk.geojson"), atomically: true, encoding: .utf8)
        #expect(importError(store, spec(f, f.path("junk.geojson")))?.description.contains("junk.geojson") == true)
        #expect(importError(store, spec(f, f.path("missing.gpkg")))?.description.contains("no such file") == true)
        // No geometry: a CSV table.
        try "BSM,DLMC\nP1,水田\n".write(toFile: f.path("table.csv"), atomically: true, encoding: .utf8)
        #expect(importError(store, spec(f, f.path("table.csv")))?.description.contains("no geometry") == true)
        // Unknown CRS.
        let src = try f.geoJSON("p.geojson", count: 1)
        let crsError = importError(store, spec(f, src, crs: "EPSG:999999"))?.description ?? ""
        #expect(crsError.contains("PROJ") && crsError.contains("999999"))
        // Wrong CRS: lon/lat declared as a projected zone lands nowhere near the globe's range.
        let wrong = importError(store, spec(f, src, crs: "EPSG:4326"))
        #expect(wrong == nil)
        #expect(try store.layers().count == 1)
    }

    /// SIGKILL an `onemap import` half-way through: the old version must be intact.
    @Test func killedLoadLeavesOldVersion() throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/onemap").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the onemap binary first (make test does)")
        let f = try Fixtures()
        let small = try f.geoJSON("small.geojson", count: 3)
        let big = f.path("big.gpkg")
        let w = try VectorWriter(
            path: big, format: .geoPackage, layerName: "big", crs: "EPSG:4490",
            geometryType: "Polygon", fields: Fixtures.farmlandFields)
        for i in 0..<150_000 {
            try w.write(
                geometry: Fixtures.square(119 + Double(i % 1000) * 0.001, 28 + Double(i / 1000) * 0.001, 0.0008),
                attributes: [.text("B\(i)"), .text("水田"), .real(1)])
        }
        try w.close()
        let db = f.path("kill.sqlite")
        func run(_ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = args + ["--db", db]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try ChildProcess.launch(p)
            return p
        }
        let first = try run(["import", small, "--layer", "farmland", "--id-field", "BSM"])
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)

        let second = try run(["import", big, "--layer", "farmland", "--id-field", "BSM"])
        // Wait until the load has written a good part of its transaction to the WAL, then kill it.
        let deadline = Date().addingTimeInterval(60)
        while second.isRunning && Date() < deadline {
            let wal = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
            if wal > 4_000_000 { break }
            usleep(20_000)
        }
        #expect(second.isRunning, "the import finished before it could be killed")
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()
        #expect(second.terminationReason == .uncaughtSignal)

        let store = try Store(path: db)
        let layer = try store.layer(named: "farmland")
        #expect(layer.version.number == 1 && layer.version.count == 3)
        try store.pool.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM lyr_farmland_1") == 3)
            #expect(try !db.tableExists("lyr_farmland_2"))
        }
        // And the next load succeeds.
        let third = try run(["import", small, "--layer", "farmland", "--id-field", "BSM"])
        third.waitUntilExit()
        #expect(third.terminationStatus == 0)
        #expect(try store.layer(named: "farmland").version.count == 3)
    }
}
