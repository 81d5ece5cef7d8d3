import CSpatiaLite

/// One value of a statement's current row as SQLite holds it, text and blobs as bytes in
/// SQLite's own buffer (valid only until the statement steps on or is reset).
///
/// Why: copying a large layer's rows into memory (`PackedRows` in the checker) reads every
/// value of hundreds of thousands of rows once; going through `DatabaseValue` would make a
/// `String` or `Data` of each, only to copy its bytes again.
public enum ColumnValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(UnsafeRawBufferPointer)
    case blob(UnsafeRawBufferPointer)

    /// Column `index` of `statement`'s current row (GRDB's `Statement.sqliteStatement`).
    public init(column index: Int32, of statement: OpaquePointer) {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: self = .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: self = .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // Text first, then its length in bytes, as SQLite documents the order.
            let start = sqlite3_column_text(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            self = .text(UnsafeRawBufferPointer(start: start, count: count))
        case SQLITE_BLOB:
            let start = sqlite3_column_blob(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            self = .blob(UnsafeRawBufferPointer(start: start, count: count))
        default: self = .null
        }
    }
}
