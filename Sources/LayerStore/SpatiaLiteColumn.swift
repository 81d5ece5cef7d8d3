import CSpatiaLite
import Foundation
import GeoCore

extension SpatiaLiteGeometry {
    /// The geometry blob in column `index` of a statement's current row (GRDB's
    /// `Statement.sqliteStatement`, or the pointer its cursors hand out), decoded in place from
    /// SQLite's buffer; nil when the value is NULL or empty.
    ///
    /// Why: GRDB gives a blob without copying only through a `Row`, and a check reads its
    /// candidates without one (a `Row` per query indexes every column name). Copying each
    /// candidate's blob into a `Data` first, an allocation and a copy, was 2% of a check.
    public static func decode(column index: Int32, of statement: OpaquePointer) throws -> Geometry? {
        guard let bytes = sqlite3_column_blob(statement, index) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return try decode(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
