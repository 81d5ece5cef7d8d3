import GeoCore
import GRDB
import LayerStore

/// A large layer's feature boxes in memory, searched without SQL; rows are read by fid only
/// for the boxes that can reach the site.
///
/// Why: on a small site the R*Tree's virtual table was a third of a check (a statement per
/// search, its nodes read as blobs and decoded each time, its boxes rounded to 32-bit floats
/// so placing them against the site had to wait for the row). Searching exact boxes in
/// memory and placing them first leaves SQLite one primary-key lookup per candidate that
/// counts. The boxes cost ~45 bytes a feature and a scan of the table to build, so only
/// checkers that live long (the server, `check --each`) keep them, one set per layer version.
final class LayerBoxes: Sendable {
    let index: BoxIndex
    /// Each item's fid, in the order given to the index.
    let fids: [Int64]
    /// One feature's candidate columns by fid.
    let rowSQL: String

    init(table: String, columns: String, db: Database) throws {
        let quoted = table.sqlIdentifier
        let rows = try BoxCursor(statement: db.makeStatement(sql: "SELECT om_fid, om_minx, om_miny, om_maxx, om_maxy FROM \(quoted)"))
        var fids: [Int64] = [], boxes: [BoundingBox] = []
        while let (fid, box) = try rows.next() {
            fids.append(fid)
            boxes.append(box)
        }
        self.fids = fids
        index = BoxIndex(boxes)
        rowSQL = "SELECT \(columns) FROM \(quoted) AS t WHERE t.om_fid = ?"
    }

    /// The features whose boxes meet any of `queries` and that `keep` gives a tag (from the
    /// box: where it lies against the site), ascending by fid and each once.
    func search<Tag>(_ queries: [BoundingBox], keep: (BoundingBox) -> Tag?) -> [(fid: Int64, tag: Tag)] {
        var found: [(fid: Int64, tag: Tag)] = []
        for query in queries {
            index.search(query) { item, box in
                if let tag = keep(box) { found.append((fids[item], tag)) }
            }
        }
        found.sort { $0.fid < $1.fid }
        if queries.count > 1 && found.count > 1 {
            // A feature reaching into several of the queries came up once for each.
            var kept = 1
            for k in 1..<found.count where found[k].fid != found[kept - 1].fid { found[kept] = found[k]; kept += 1 }
            found.removeLast(found.count - kept)
        }
        return found
    }
}

/// A layer's fids and boxes, read with no generic machinery (half a million rows, once).
private final class BoxCursor: DatabaseCursor {
    typealias Element = (Int64, BoundingBox)
    let _statement: Statement
    var _isDone = false

    init(statement: Statement) throws {
        _statement = statement
        try statement.setArguments([])
    }

    func _element(sqliteStatement s: SQLiteStatement) throws -> (Int64, BoundingBox) {
        (Int64(sqliteStatement: s, index: 0),
         BoundingBox(Double(sqliteStatement: s, index: 1), Double(sqliteStatement: s, index: 2),
                     Double(sqliteStatement: s, index: 3), Double(sqliteStatement: s, index: 4)))
    }
}
