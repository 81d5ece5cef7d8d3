import Foundation
import GRDB
import GeoCore
import Testing

@testable import Conflicts
@testable import LayerStore

/// Check records live in a file of their own beside the layers' database; a database from
/// before, with its records inside, moves them there when first opened, and none is lost.
struct RecordsFileTests {
    @Test func recordsAreWrittenBesideTheLayers() throws {
        let f = try ConflictFixtures()
        try f.layer("farmland", rule: Rule(severity: .forbidden), [("F1", .polygon(ConflictFixtures.box(120, 28, 120.001, 28.001)), [])])
        let site = try Site.make(
            polygons: [(ConflictFixtures.box(120.0002, 28.0002, 120.0008, 28.0008), "p")], crs: nil, limits: SiteLimits())
        let record = try CheckRecords(store: f.store).save(
            try ConflictChecker(store: f.store).check(site), request: DeferredGeometryTests.request)
        #expect(f.store.recordsPath == f.dir + "/test-records.sqlite")
        let inRecords = try DatabaseQueue(path: f.store.recordsPath).read { db in
            try String.fetchAll(db, sql: "SELECT id FROM onemap_checks")
        }
        #expect(inRecords == [record.summary.id])
        // The layers' file has no record table: a record written there would miss the move.
        let mainTables = try f.store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE name LIKE 'onemap_check%'")
        }
        #expect(mainTables.isEmpty)
        #expect(RecordsFile.path(beside: "/data/city.db") == "/data/city.db-records.sqlite")
    }

    @Test func aDatabaseFromBeforeMovesItsRecords() throws {
        let f = try ConflictFixtures()
        let path = f.dir + "/test.sqlite"
        try f.layer("farmland", rule: Rule(severity: .forbidden), [("F1", .polygon(ConflictFixtures.box(120, 28, 120.001, 28.001)), [])])
        let site = try Site.make(
            polygons: [(ConflictFixtures.box(120.0002, 28.0002, 120.0008, 28.0008), "p")], crs: nil, limits: SiteLimits())
        let checker = ConflictChecker(store: f.store)
        let records = CheckRecords(store: f.store)
        let kept = try records.save(try checker.check(site), request: DeferredGeometryTests.request)
        let waiting = try records.save(withoutGeometry: try checker.check(site, keepPieces: false), request: DeferredGeometryTests.request)
        let answers = try [kept, waiting].map { try #require(try records.get($0.summary.id, geometry: false)).result }

        // Put the layers' file back as it was before the move: the record tables inside it,
        // filled, the two migrations of the move not yet run, and no records file.
        let recordsPath = f.store.recordsPath
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [recordsPath])
            try db.execute(sql: RecordsFile.schema.replacingOccurrences(of: "records.", with: "main."))
            for table in ["onemap_checks", "onemap_check_geometry", "onemap_check_geometry_pending"] {
                try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM old.\(table)")
            }
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v6-%' OR identifier LIKE 'v7-%'")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: recordsPath + suffix) }

        let reopened = try Store(path: path)
        let moved = CheckRecords(store: reopened)
        for (record, answer) in zip([kept, waiting], answers) {
            #expect(try moved.get(record.summary.id, geometry: false)?.result == answer)
        }
        // The waiting record's geometry is still drawn when read, and kept in the records file.
        #expect(try moved.get(waiting.summary.id)?.geojson.isEmpty == false)
        let counts = try DatabaseQueue(path: recordsPath).read { db in
            try ["onemap_checks", "onemap_check_geometry", "onemap_check_geometry_pending"].map {
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1
            }
        }
        // The record saved with its geometry keeps it in its own row; the other's was drawn.
        #expect(counts == [2, 1, 0])
        let left = try reopened.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE name LIKE 'onemap_check%'")
        }
        #expect(left.isEmpty, "the layers' file keeps no copy: \(left)")
    }
}
