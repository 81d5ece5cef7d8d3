import GRDB
import GeoCore
import LayerStore

/// A large layer's feature boxes in memory, searched without SQL; rows are read by fid only
/// for the boxes that can reach the site.
///
/// Why: on a small site the R*Tree's virtual table is much of a check (a statement per
/// search, its nodes read as blobs and decoded each time, its boxes rounded to 32-bit floats
/// so placing them against the site has to wait for the row). Searching exact boxes in
/// memory and placing them first leaves SQLite one primary-key lookup per candidate that
/// counts. The boxes cost ~45 bytes a feature and a scan of the table to build, so only
/// checkers that live long (the server, `check --each`) keep them, one set per layer version.
final class LayerBoxes: Sendable {
    let index: BoxIndex
    /// Each item's fid, in the order given to the index.
    let fids: [Int64]
    /// One feature's candidate columns by fid.
    let rowSQL: String

    init(table: FeatureTable, columns: [FeatureTable.Column], db: Database) throws {
        var fids: [Int64] = [], boxes: [BoundingBox] = []
        try StatementRows(db.makeStatement(sql: table.select([.fid, .box]))).forEach { s in
            fids.append(Int64(sqliteStatement: s, index: 0))
            boxes.append(
                BoundingBox(
                    Double(sqliteStatement: s, index: 1), Double(sqliteStatement: s, index: 2),
                    Double(sqliteStatement: s, index: 3), Double(sqliteStatement: s, index: 4)))
        }
        self.fids = fids
        index = BoxIndex(boxes)
        rowSQL = table.byFid(columns)
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
