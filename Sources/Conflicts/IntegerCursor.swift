import GRDB

/// The first column of a statement's rows as integers, read with no generic machinery.
///
/// Why: every check reads `PRAGMA data_version`, and `Int64.fetchOne` builds a generic cursor
/// and instantiates its metadata each time, a few microseconds, as much as the pragma itself.
final class IntegerCursor: DatabaseCursor {
    typealias Element = Int64
    let _statement: Statement
    var _isDone = false

    init(statement: Statement) throws {
        _statement = statement
        // Binding the (no) arguments resets the statement, as GRDB's own cursors do.
        try statement.setArguments([])
    }

    deinit {
        // Read part-way (one row of a pragma): reset, so the statement does not hold this
        // connection's read snapshot open past the transaction. Binding again resets it.
        if !_isDone { try? _statement.setArguments([]) }
    }

    func _element(sqliteStatement: SQLiteStatement) throws -> Int64 {
        Int64(sqliteStatement: sqliteStatement, index: 0)
    }
}
