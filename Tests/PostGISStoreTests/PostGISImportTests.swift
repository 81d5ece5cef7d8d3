import Foundation
import GRDB
import GeoCore
import LayerStore
import Testing
import VectorIO

@testable import PostGISStore

/// Loads into a real PostgreSQL 15 + PostGIS (`.ci/with-postgres`), checked with PostGIS's own
/// functions and against a SpatiaLite load of the same file.
struct PostGISImportTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-pg-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    static func square(_ lon: Double, _ lat: Double, _ size: Double) -> Geometry {
        .polygon(
            Polygon([
                [
                    Coordinate(lon, lat), Coordinate(lon + size, lat), Coordinate(lon + size, lat + size),
                    Coordinate(lon, lat + size), Coordinate(lon, lat)
                ]
            ]))
    }

    static let bowTie = Geometry.polygon(
        Polygon([
            [
                Coordinate(119.9, 28.5), Coordinate(119.901, 28.501), Coordinate(119.901, 28.5), Coordinate(119.9, 28.501),
                Coordinate(119.9, 28.5)
            ]
        ]))

    /// GeoJSON parcels near Lishui, ids P1…Pn; feature 1 a bow-tie to repair when asked.
    func parcels(_ name: String, count: Int, bowTie: Bool = false, ids: ((Int) -> String)? = nil) throws -> String {
        let path = dir + "/" + name
        let w = try VectorWriter(
            path: path, format: .geoJSON, layerName: "parcels", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [
                FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text),
                FieldDefinition(name: "TBMJ", type: .real), FieldDefinition(name: "ZLDWDM", type: .integer)
            ])
        for i in 0..<count {
            let g = bowTie && i == 1 ? Self.bowTie : Self.square(119.9 + Double(i) * 0.001, 28.4, 0.0005 + Double(i) * 1e-5)
            // A name with the characters COPY's text format escapes.
            let dlmc = i == 2 ? "水田\t旱地\\n\n" : "水田"
            try w.write(
                geometry: g, attributes: [.text(ids?(i) ?? "P\(i + 1)"), .text(dlmc), .real(1.5 + Double(i)), .integer(331102001001)])
        }
        try w.close()
        return path
    }

    func spec(_ source: String, title: String = "永久基本农田") -> LayerSpec {
        LayerSpec(name: "farmland", title: title, kind: .farmland, source: source, idField: "BSM")
    }

    func load(_ url: String, _ spec: LayerSpec, label: String? = nil) async throws -> ImportReport {
        try await PostGISDatabase.with(try PostGISLocation(url: url)) { db in
            try await PostGISImporter(database: db).load(spec, label: label)
        }
    }

    @Test func loadsATypedPostGISTableWithAreasIndexAndView() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let source = try parcels("p.geojson", count: 6, bowTie: true)
        let report = try await load(url, spec(source))
        #expect(report.count == 6 && report.version == 1 && report.geometryType == "MultiPolygon")
        #expect(report.repaired == 1 && report.repairs.first?.contains("BSM=P2") == true)

        // A typed PostGIS table: geometry type and SRID, the source's field types.
        let columns = try await TestDatabase.values(
            url,
            "SELECT column_name || ' ' || udt_name FROM information_schema.columns WHERE table_schema = 'onemap' "
                + "AND table_name = 'lyr_farmland_1' ORDER BY ordinal_position", as: String.self)
        #expect(columns.contains("TBMJ float8") && columns.contains("ZLDWDM int8") && columns.contains("DLMC text"))
        #expect(
            try await TestDatabase.values(
                url, "SELECT type || ' ' || srid FROM geometry_columns WHERE f_table_name = 'lyr_farmland_1'", as: String.self)
                == ["MULTIPOLYGON 4490"])
        let indexes = try await TestDatabase.values(
            url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'lyr_farmland_1'", as: String.self)
        #expect(indexes.contains { $0.contains("USING gist (geom)") })
        #expect(indexes.contains { $0.contains("UNIQUE") && $0.contains("(om_id)") })

        // Every geometry valid to PostGIS (the bow-tie repaired into two), the text as it was.
        #expect(try await TestDatabase.values(url, "SELECT bool_and(ST_IsValid(geom)) FROM onemap.lyr_farmland_1", as: Bool.self) == [true])
        #expect(
            try await TestDatabase.values(url, "SELECT ST_NumGeometries(geom) FROM onemap.lyr_farmland_1 WHERE om_id = 'P2'", as: Int.self)
                == [2])
        #expect(
            try await TestDatabase.values(url, "SELECT \"DLMC\" FROM onemap.lyr_farmland_1 WHERE om_id = 'P3'", as: String.self)
                == ["水田\t旱地\\n\n"])

        // OneMap's ellipsoidal areas agree with PostGIS's geography on the CGCS2000 ellipsoid.
        let pairs = try await TestDatabase.values(
            url, "SELECT om_area_m2 || ' ' || ST_Area(geom::geography) FROM onemap.lyr_farmland_1", as: String.self)
        for pair in pairs {
            let v = pair.split(separator: " ").compactMap { Double($0) }
            #expect(v.count == 2 && abs(v[0] - v[1]) <= 1e-6 * v[1], "\(pair)")
        }

        // The view of the current version, for QGIS and other tools.
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap_layers.farmland", as: Int.self) == [6])
        #expect(try await TestDatabase.values(url, "SELECT current_version FROM onemap.layers", as: Int.self) == [1])
    }

    @Test func rowsAreTheSpatiaLiteLoadsRows() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let source = try parcels("same.geojson", count: 40, bowTie: true)
        _ = try await load(url, spec(source))
        let store = try Store(path: dir + "/same.sqlite")
        _ = try LayerImporter(store: store).load(spec(source))
        let spatiaLite = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT om_id, om_area_m2, om_length_m, om_minx, om_maxy FROM lyr_farmland_1 ORDER BY om_fid")
                .map { "\($0[0] as String) \($0[1] as Double) \($0[2] as Double) \($0[3] as Double) \($0[4] as Double)" }
        }
        // float8 to text with every digit, as Swift prints the same double.
        let postGIS = try await TestDatabase.withConnection(url) { c in
            _ = try await c.query("SET extra_float_digits = 3", logger: TestDatabase.logger).collect()
            var out: [String] = []
            let rows = try await c.query(
                "SELECT om_id, om_area_m2, om_length_m, om_minx, om_maxy FROM onemap.lyr_farmland_1 ORDER BY om_fid",
                logger: TestDatabase.logger)
            for try await (id, area, length, minX, maxY) in rows.decode((String, Double, Double, Double, Double).self) {
                out.append("\(id) \(area) \(length) \(minX) \(maxY)")
            }
            return out
        }
        #expect(postGIS.count == 40 && postGIS == spatiaLite)
    }

    @Test func aNewVersionLeavesTheOldAndMovesTheView() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        _ = try await load(url, spec(try parcels("v1.geojson", count: 3)), label: "2025")
        let second = try await load(url, spec(try parcels("v2.geojson", count: 5), title: "永久基本农田(2026 年度变更)"), label: "2026")
        #expect(second.version == 2 && second.label == "2026")
        #expect(second.definitionChanges.contains { $0.contains("title") })
        // What `onemap layers --db postgresql://…` lists: the current version.
        let listed = try await PostGISDatabase.with(try PostGISLocation(url: url)) { db in try await db.layers() }
        #expect(listed.map(\.spec.name) == ["farmland"] && listed.first?.version == 2 && listed.first?.label == "2026")
        #expect(listed.first?.count == 5 && listed.first?.bbox == second.bbox && listed.first?.geometryType == "MultiPolygon")
        #expect(listed.first?.spec.title == "永久基本农田(2026 年度变更)" && listed.first?.definitionChange?.contains("title") == true)
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap.lyr_farmland_1", as: Int.self) == [3])
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap_layers.farmland", as: Int.self) == [5])
        #expect(
            try await TestDatabase.values(url, "SELECT label FROM onemap.layer_versions ORDER BY version", as: String.self) == [
                "2025", "2026"
            ])
        // A label names one version.
        await #expect(throws: StoreError.self) { _ = try await load(url, spec(try parcels("v3.geojson", count: 2)), label: "2026") }
    }

    @Test func aNewFileForALayerKeepsTheDefinitionStoredThere() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        _ = try await load(url, spec(try parcels("first.geojson", count: 3)))
        let db = try await PostGISDatabase.open(try PostGISLocation(url: url))
        let next = try parcels("next.geojson", count: 4)
        // As `onemap import next.geojson --layer farmland` makes it: the stored title, kind and id field.
        let request = ImportRequest(
            name: "farmland", source: next, sourceLayer: nil, sourceCRS: nil, encoding: nil, title: nil, kind: nil, idField: nil,
            redefine: false)
        let report = try await PostGISImporter(database: db).load(
            try request.spec(stored: try await db.definition(of: "farmland")), authority: request.authority)
        #expect(report.version == 2 && report.definitionChanges.isEmpty)
        #expect(try await db.definition(of: "farmland")?.title == "永久基本农田")
        // A title that contradicts the stored one is refused without --redefine.
        let contradicting = ImportRequest(
            name: "farmland", source: next, sourceLayer: nil, sourceCRS: nil, encoding: nil, title: "别的", kind: nil, idField: nil,
            redefine: false)
        let stored = try #require(try await db.definition(of: "farmland"))
        #expect(throws: StoreError.self) { _ = try contradicting.spec(stored: stored) }
        await db.close()
    }

    @Test func duplicateIdsNameTheFeatureAndLeaveNothing() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        _ = try await load(url, spec(try parcels("good.geojson", count: 3)))
        let dup = try parcels("dup.geojson", count: 4, ids: { $0 == 3 ? "P2" : "P\($0 + 1)" })
        do {
            _ = try await load(url, spec(dup))
            Issue.record("a load with a repeated id was accepted")
        } catch let StoreError.importFailed(file, layer, feature, message) {
            #expect(file == dup && layer == "farmland")
            #expect(feature?.contains("BSM=P2") == true && feature?.contains("FID 3") == true)
            #expect(message.contains("duplicate id 'P2'") && message.contains("first seen at FID 1"))
        }
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap.layer_versions", as: Int.self) == [1])
        #expect(try await TestDatabase.values(url, "SELECT to_regclass('onemap.lyr_farmland_2') IS NULL", as: Bool.self) == [true])
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap_layers.farmland", as: Int.self) == [3])
    }

    @Test func aReplicasCopyHoldsTheVersionAsLoaded() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let source = try parcels("mirror.geojson", count: 30, bowTie: true)
        let loaded = try await load(url, spec(source), label: "2026")
        let store = try Store(path: dir + "/replica.sqlite")
        let db = try await PostGISDatabase.open(try PostGISLocation(url: url))
        let mirror = PostGISMirror(database: db, store: store)
        let copied = try await mirror.sync()
        #expect(copied.map(\.layer) == ["farmland"] && copied.first?.count == 30 && copied.first?.version == 1)
        // Copied once: a second sync (a replica's restart, or a notification for a layer it
        // has) copies nothing.
        #expect(try await mirror.sync().isEmpty)
        await db.close()

        let layer = try store.layer(named: "farmland")
        #expect(layer.version.number == 1 && layer.version.label == "2026" && layer.version.count == 30)
        #expect(layer.spec.title == "永久基本农田" && layer.spec.idField == "BSM")
        #expect(layer.version.bbox?.array == loaded.bbox)
        // The rows are the database's, to the last bit, with SpatiaLite's index over them.
        let copiedRows = try await store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT om_id, om_area_m2, om_length_m, om_maxx, DLMC, ZLDWDM, ST_IsValid(geom) FROM lyr_farmland_1 ORDER BY om_fid"
            )
            .map {
                "\($0[0] as String) \($0[1] as Double) \($0[2] as Double) \($0[3] as Double) \($0[4] as String) \($0[5] as Int64) \($0[6] as Int)"
            }
        }
        let sourceRows = try await TestDatabase.withConnection(url) { c in
            var out: [String] = []
            let rows = try await c.query(
                "SELECT om_id, om_area_m2, om_length_m, om_maxx, \"DLMC\", \"ZLDWDM\" FROM onemap.lyr_farmland_1 ORDER BY om_fid",
                logger: TestDatabase.logger)
            for try await (id, area, length, maxX, dlmc, unit) in rows.decode((String, Double, Double, Double, String, Int64).self) {
                out.append("\(id) \(area) \(length) \(maxX) \(dlmc) \(unit) 1")
            }
            return out
        }
        #expect(copiedRows.count == 30 && copiedRows == sourceRows)
        let indexOK = try await store.pool.write { db in try Int.fetchOne(db, sql: "SELECT CheckSpatialIndex('lyr_farmland_1', 'geom')") }
        #expect(indexOK == 1)
    }

    @Test func aSchemaFromANewerOneMapIsRefused() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        await (try PostGISDatabase.open(try PostGISLocation(url: url))).close()
        _ = try await TestDatabase.values(url, "UPDATE onemap.meta SET value = '99' WHERE key = 'schema_version' RETURNING 1", as: Int.self)
        do {
            await (try PostGISDatabase.open(try PostGISLocation(url: url))).close()
            Issue.record("a newer schema was opened")
        } catch {
            #expect("\(error)".contains("schema version 99, newer than this OneMap's"))
        }
    }

    @Test func aServerThatIsNotThereIsNamed() async throws {
        // A port nothing listens on (the cluster's own port plus one is not guaranteed free; 1 is).
        do {
            _ = try await PostGISDatabase.open(try PostGISLocation(url: "postgresql://postgres:pw@127.0.0.1:1/onemap?sslmode=disable"))
            Issue.record("connected to nothing")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot connect to postgresql://postgres@127.0.0.1:1/onemap") && !text.contains("pw"))
        }
    }
}
