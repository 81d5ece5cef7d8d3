import Foundation
import FuzzSupport
import GRDB
import GeoCore
import Testing

@testable import LayerStore

/// The packed R*Tree is SQLite's own `rtree` table: SQLite's checker passes it, and its
/// searches find exactly the boxes a scan finds.
struct PackedRTreeTests {
    /// Random boxes over Lishui, tiny to county-sized, under ids out of order.
    func boxes(_ n: Int, seed: UInt64) -> [(id: Int64, box: BoundingBox)] {
        var random = FuzzRandom(seed: seed)
        return (0..<n).map { i in
            let x = random.double(118.7...120.4), y = random.double(27.4...28.9)
            let w = random.chance(0.05) ? random.double(0...0.5) : random.double(0...0.002)
            let h = random.chance(0.05) ? random.double(0...0.5) : random.double(0...0.002)
            return (Int64(i * 7 + 3), BoundingBox(x, y, x + w, y + h))
        }
    }

    func packed(_ boxes: [(id: Int64, box: BoundingBox)]) throws -> DatabaseQueue {
        let db = try DatabaseQueue()
        try db.write { db in
            var tree = PackedRTree()
            for b in boxes { tree.add(id: b.id, box: b.box) }
            try tree.write("idx_t_geom", db: db)
        }
        return db
    }

    /// Sizes for a root that is a leaf, one level above the leaves, and two (51 cells a node
    /// at SQLite's default page size).
    @Test(arguments: [1, 7, 51, 52, 2_000, 6_000])
    func sqliteChecksThePackedTree(count: Int) throws {
        let db = try packed(boxes(count, seed: UInt64(count)))
        let (check, entries, rows) = try db.read { db in
            (
                try String.fetchOne(db, sql: "SELECT rtreecheck('idx_t_geom')"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM idx_t_geom"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM idx_t_geom_rowid")
            )
        }
        #expect(check == "ok")
        #expect(entries == count)
        #expect(rows == count)
    }

    @Test func searchesFindWhatAScanFinds() throws {
        let all = boxes(6_000, seed: 23)
        let db = try packed(all)
        var random = FuzzRandom(seed: 5)
        try db.read { db in
            for _ in 0..<200 {
                let x = random.double(118.6...120.4), y = random.double(27.3...28.9), s = random.double(0.0001...0.3)
                let q = BoundingBox(x, y, x + s, y + s)
                let found = Set(
                    try Int64.fetchAll(
                        db, sql: "SELECT pkid FROM idx_t_geom WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?",
                        arguments: [q.minX, q.maxX, q.minY, q.maxY]))
                // The stored boxes are rounded outward to 32-bit floats: every box that meets
                // the query is found, and anything more is within that rounding of it.
                let meets = Set(all.filter { $0.box.intersects(q) }.map(\.id))
                #expect(meets.isSubset(of: found))
                let slack = 1e-5
                let near = Set(
                    all.filter {
                        $0.box.maxX >= q.minX - slack && $0.box.minX <= q.maxX + slack && $0.box.maxY >= q.minY - slack
                            && $0.box.minY <= q.maxY + slack
                    }.map(\.id))
                #expect(found.isSubset(of: near))
            }
        }
    }

    /// SQLite keeps using the table as its own: later inserts and deletes leave it whole.
    @Test func sqliteWritesIntoThePackedTree() throws {
        let db = try packed(boxes(3_000, seed: 9))
        let check = try db.write { db -> String? in
            try db.execute(sql: "DELETE FROM idx_t_geom WHERE pkid % 3 = 0")
            for i in 0..<500 {
                let x = 119 + Double(i) * 0.001
                try db.execute(sql: "INSERT INTO idx_t_geom VALUES (?, ?, ?, ?, ?)", arguments: [1_000_000 + i, x, x + 0.001, 28, 28.001])
            }
            return try String.fetchOne(db, sql: "SELECT rtreecheck('idx_t_geom')")
        }
        #expect(check == "ok")
    }

    @Test func coordinatesRoundOutward() {
        for d in [119.123456789, -119.123456789, 28.000000001, -0.1, 0, 1e-30, 3_600_000.123] {
            #expect(Double(PackedRTree.down(d)) <= d)
            #expect(Double(PackedRTree.up(d)) >= d)
            #expect(abs(Double(PackedRTree.up(d)) - d) <= abs(d) * 2.5e-7)
        }
    }
}
