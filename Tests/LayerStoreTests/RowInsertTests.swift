import Foundation
import GRDB
import GeoCore
import Testing

@testable import LayerStore

/// Values bound through SQLite's own calls come back as GRDB would have written them: an empty
/// text is text, not NULL; a NULL is NULL; a broken constraint is GRDB's constraint error.
struct RowInsertTests {
    @Test func valuesRoundTripAndConstraintsSurface() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t(id TEXT NOT NULL UNIQUE, n INTEGER, r REAL, s TEXT, b BLOB)")
            let insert = RowInsert(statement: try db.makeStatement(sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?)"))
            try insert.insert { b in
                b.text("a")
                b.attribute(.integer(42))
                b.attribute(.real(0.25))
                b.attribute(.text(""))
                b.blob(Data([1, 2, 3]))
            }
            try insert.insert { b in
                b.text("名称 b")
                b.attribute(.null)
                b.real(-1.5)
                b.attribute(.text("地类　0101"))
                b.blob(Data())
            }
            #expect(throws: DatabaseError.self) {
                do {
                    try insert.insert { b in
                        b.text("a")
                        b.null()
                        b.null()
                        b.null()
                        b.blob(Data([0]))
                    }
                } catch let e as DatabaseError {
                    #expect(e.resultCode == .SQLITE_CONSTRAINT)
                    throw e
                }
            }
        }
        let rows = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, n, r, s, typeof(s), b, typeof(n) FROM t ORDER BY rowid")
        }
        #expect(rows.count == 2)
        #expect(rows[0][0] as String == "a" && rows[0][1] as Int == 42 && rows[0][2] as Double == 0.25)
        #expect(rows[0][3] as String == "" && rows[0][4] as String == "text" && rows[0][5] as Data == Data([1, 2, 3]))
        #expect(rows[1][0] as String == "名称 b" && rows[1][6] as String == "null" && rows[1][3] as String == "地类　0101")
        #expect((rows[1][5] as Data?)?.isEmpty == true)
    }
}
