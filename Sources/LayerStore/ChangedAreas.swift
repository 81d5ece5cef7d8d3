import Foundation
import GRDB
import GeoCore

extension Store {
    /// Where two versions of a layer differ, as boxes: every feature added, removed, or changed
    /// in geometry, in any attribute, or in its row number (the id a vector tile gives it),
    /// once as it was and once as it is. A tile made from one version differs from the same
    /// tile made from the other only where it meets one of these boxes: what
    /// `onemap tiles export --update` re-makes.
    ///
    /// nil when the versions cannot be compared feature by feature: one of them was pruned,
    /// or their fields differ (every feature's attributes then change).
    public func changedBoxes(_ layer: String, from: Int, to: Int) throws -> [BoundingBox]? {
        try pool.read { db -> [BoundingBox]? in
            guard let old = try? resolveVersion(db, layer: layer, String(from)),
                let new = try? resolveVersion(db, layer: layer, String(to)),
                old.fields.map(\.name) == new.fields.map(\.name), old.fields.map(\.type) == new.fields.map(\.type)
            else { return nil }
            guard from != to else { return [] }
            let a = old.tableName.sqlIdentifier, b = new.tableName.sqlIdentifier
            let differs = (["om_fid", "geom"] + old.fields.map(\.name.sqlIdentifier)).map { "x.\($0) IS NOT y.\($0)" }
            let box = ["om_minx", "om_miny", "om_maxx", "om_maxy"]
            let sql = """
                SELECT \(box.map { "x.\($0)" }.joined(separator: ", ")), \(box.map { "y.\($0)" }.joined(separator: ", "))
                FROM \(a) x LEFT JOIN \(b) y ON y.om_id = x.om_id
                WHERE y.om_id IS NULL OR \(differs.joined(separator: " OR "))
                UNION ALL
                SELECT NULL, NULL, NULL, NULL, \(box.map { "y.\($0)" }.joined(separator: ", "))
                FROM \(b) y WHERE y.om_id NOT IN (SELECT om_id FROM \(a))
                """
            var boxes: [BoundingBox] = []
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                for at in [0, 4] {
                    if let x0: Double = row[at], let y0: Double = row[at + 1], let x1: Double = row[at + 2], let y1: Double = row[at + 3] {
                        boxes.append(BoundingBox(x0, y0, x1, y1))
                    }
                }
            }
            return boxes
        }
    }
}
