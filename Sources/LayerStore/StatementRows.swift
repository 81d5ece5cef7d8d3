import CSpatiaLite
import GRDB

/// A prepared statement's rows, stepped with SQLite's own calls and read by the caller
/// straight from the statement by column index and type.
///
/// Why: GRDB's cursors build a `Row` per step (its column names mapped to indices) and read
/// values through generic subscripts; a check steps thousands of rows, where that bookkeeping
/// costs more than SQLite's work. The statement stays in GRDB's cache and is left reset, as
/// GRDB leaves its own, so it does not hold the connection's read snapshot open.
public struct StatementRows {
    let statement: Statement

    public init(_ statement: Statement) {
        self.statement = statement
    }

    /// Calls `body` with each row (the statement's current row, valid only inside `body`).
    public func forEach(arguments: StatementArguments = [], _ body: (SQLiteStatement) throws -> Void) throws {
        try statement.setArguments(arguments)
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        while true {
            switch sqlite3_step(s) {
            case SQLITE_ROW: try body(s)
            case SQLITE_DONE: return
            case let code: throw RowByKey.error(code, statement)
            }
        }
    }

    /// The first column of the first row as an integer, nil when there is no row.
    public func firstInteger(arguments: StatementArguments = []) throws -> Int64? {
        try statement.setArguments(arguments)
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        switch sqlite3_step(s) {
        case SQLITE_ROW: return sqlite3_column_int64(s, 0)
        case SQLITE_DONE: return nil
        case let code: throw RowByKey.error(code, statement)
        }
    }
}
