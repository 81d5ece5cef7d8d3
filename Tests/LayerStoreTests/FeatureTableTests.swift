import Foundation
import GRDB
import Testing

@testable import LayerStore

/// The queries FeatureTable writes, run on a table laid out as the importer lays it out, with
/// field names that need quoting.
struct FeatureTableTests {
    let table = FeatureTable(layer: "farm_land", version: 3, fields: ["DLBM", "a\"b", "名 称"])

    func database() throws -> DatabaseQueue {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE \(FeatureTable.quote(table.name))(om_fid INTEGER PRIMARY KEY, om_id TEXT NOT NULL UNIQUE, om_source_fid INTEGER,
                        om_area_m2 REAL, om_length_m REAL, om_minx REAL, om_miny REAL, om_maxx REAL, om_maxy REAL,
                        "DLBM" TEXT, "a""b" INTEGER, "名 称" TEXT, geom BLOB);
                    CREATE VIRTUAL TABLE \(FeatureTable.quote(table.indexName)) USING rtree(pkid, xmin, xmax, ymin, ymax);
                    """)
            // Three features on a diagonal, one degree apart, inserted out of fid order.
            for fid in [3, 1, 2] {
                let x = Double(fid)
                try db.execute(
                    sql: "INSERT INTO \(FeatureTable.quote(table.name)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    arguments: [
                        fid, "F\(fid)", fid, 10.0 * x, 0, x, x, x + 0.5, x + 0.5, "0\(fid)", fid * 100, "名\(fid)", Data([UInt8(fid)])
                    ])
                try db.execute(
                    sql: "INSERT INTO \(FeatureTable.quote(table.indexName)) VALUES (?,?,?,?,?)", arguments: [fid, x, x + 0.5, x, x + 0.5])
            }
        }
        return db
    }

    @Test func namesAndQuoting() {
        #expect(table.name == "lyr_farm_land_3")
        #expect(table.indexName == "idx_lyr_farm_land_3_geom")
        #expect(FeatureTable.quote("a\"b") == "\"a\"\"b\"")
        #expect(
            table.columns([.fid, .box, .field("a\"b")], alias: "t") == "t.om_fid, t.om_minx, t.om_miny, t.om_maxx, t.om_maxy, t.\"a\"\"b\"")
    }

    @Test func readsByBoxByKeyAndInOrder() throws {
        let db = try database()
        try db.read { db in
            // Boxes meeting [1.2, 2.2] × [1.2, 2.2]: features 1 and 2 (1's box reaches 1.5).
            let inBox = try Row.fetchAll(db, sql: table.inBox([.fid, .fields], byFid: true), arguments: [1.2, 2.2, 1.2, 2.2])
            #expect(inBox.map { $0[0] as Int64 } == [1, 2])
            #expect(inBox.map { $0[2] as Int64 } == [100, 200])
            #expect(inBox.map { $0[3] as String } == ["名1", "名2"])
            let meets = try Row.fetchAll(
                db, sql: table.select([.id], where: [table.boxMeets, table.equals("DLBM")]), arguments: [0, 10, 0, 10, "03"])
            #expect(meets.map { $0[0] as String } == ["F3"])
            // Ordered by a quoted field, descending, paged.
            let page = try Row.fetchAll(
                db, sql: table.select([.id], order: [.init(.field("a\"b"), ascending: false)], paged: true), arguments: [2, 0])
            #expect(page.map { $0[0] as String } == ["F3", "F2"])
            #expect(try Int.fetchOne(db, sql: table.count(where: [table.boxMeets]), arguments: [1.9, 3.1, 1.9, 3.1]) == 2)
            #expect(try String.fetchOne(db, sql: table.byFid([.id]), arguments: [2]) == "F2")
            #expect(try Int.fetchOne(db, sql: table.byId([.fid]), arguments: ["F3"]) == 3)
            #expect(try String.fetchAll(db, sql: table.distinctValues(of: "DLBM")) == ["01", "02", "03"])
            #expect(try Int.fetchOne(db, sql: table.geometryBytesOfIds, arguments: ["[\"F1\",\"F2\"]"]) == 2)
            // Stepped without GRDB's cursors, and left reset.
            var fids: [Int64] = []
            let statement = try db.makeStatement(sql: table.select([.fid]))
            try StatementRows(statement).forEach { fids.append(Int64(sqliteStatement: $0, index: 0)) }
            #expect(fids == [1, 2, 3])
            #expect(try StatementRows(statement).firstInteger() == 1)
        }
    }

    @Test func layerNames() {
        #expect(LayerName.isValid("farmland_2024"))
        for bad in ["", "Farmland", "farm-land", "农田", "a b", "a\"b", "a.b"] { #expect(!LayerName.isValid(bad), "\(bad)") }
    }
}
