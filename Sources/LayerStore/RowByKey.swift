import CSpatiaLite
import GRDB

/// A prepared statement that selects at most one row by an integer key (its only parameter),
/// run with SQLite's own calls.
///
/// Why: a check reads each candidate feature by fid, one lookup per candidate. Through GRDB,
/// binding the key (an array of existential arguments), the execution bookkeeping and the
/// cursor object that steps it, reset again when it is dropped, cost more than the B-tree
/// lookup itself. The statement still comes from (and stays
/// in) GRDB's cache and is left reset, so GRDB sees it as it left it.
public struct RowByKey {
    let statement: Statement

    public init(_ statement: Statement) {
        self.statement = statement
    }

    /// `body`'s result for the row whose key is `key`, or nil when there is none. The row
    /// (the statement's current row) is valid only inside `body`.
    public func withRow<T>(key: Int64, _ body: (SQLiteStatement) throws -> T) throws -> T? {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        defer { sqlite3_reset(s) }
        let bound = sqlite3_bind_int64(s, 1, key)
        guard bound == SQLITE_OK else { throw Self.error(bound, statement) }
        switch sqlite3_step(s) {
        case SQLITE_ROW: return try body(s)
        case SQLITE_DONE: return nil
        case let code: throw Self.error(code, statement)
        }
    }

    static func error(_ code: Int32, _ statement: Statement) -> DatabaseError {
        let message = sqlite3_db_handle(statement.sqliteStatement).map { String(cString: sqlite3_errmsg($0)) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
