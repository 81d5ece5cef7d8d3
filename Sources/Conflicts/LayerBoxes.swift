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
    /// The rows themselves, by item, when the checker's row memory holds them; else each
    /// candidate is read by fid through `rowSQL`.
    let rows: PackedRows?

    /// `rowMemory` nil: boxes only. Otherwise the rows are copied too (one scan of
    /// `CandidateRow.columns` instead of the boxes'), unless they outgrow it.
    init(table: FeatureTable, fields: LayerFields, db: Database, rowMemory: RowMemory?) throws {
        var fids: [Int64] = [], boxes: [BoundingBox] = []
        rowSQL = table.byFid(CandidateRow.columns)
        if let rowMemory {
            var packer = PackedRows.Builder(fields: fields, budget: rowMemory)
            try StatementRows(db.makeStatement(sql: table.select(CandidateRow.columns))).forEach { s in
                let row = CandidateRow(statement: s, fields: fields)
                fids.append(row.fid)
                boxes.append(row.box)
                _ = packer.append(row)
            }
            rows = packer.finish()
        } else {
            try StatementRows(db.makeStatement(sql: table.select([.fid, .box]))).forEach { s in
                fids.append(Int64(sqliteStatement: s, index: 0))
                boxes.append(
                    BoundingBox(
                        Double(sqliteStatement: s, index: 1), Double(sqliteStatement: s, index: 2),
                        Double(sqliteStatement: s, index: 3), Double(sqliteStatement: s, index: 4)))
            }
            rows = nil
        }
        self.fids = fids
        index = BoxIndex(boxes)
    }

    /// The features whose boxes meet any of `queries` and that `keep` gives a tag (from the
    /// box: where it lies against the site), ascending by fid and each once.
    func search<Tag>(_ queries: [BoundingBox], keep: (BoundingBox) -> Tag?) -> [Hit<Tag>] {
        var found: [Hit<Tag>] = []
        for query in queries {
            index.search(query) { item, box in
                if let tag = keep(box) { found.append(Hit(item: item, fid: fids[item], box: box, tag: tag)) }
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

    struct Hit<Tag> {
        let item: Int
        let fid: Int64
        let box: BoundingBox
        let tag: Tag
    }
}
