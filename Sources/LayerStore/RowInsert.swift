import CSpatiaLite
import Foundation
import GRDB
import GeoCore

/// A prepared INSERT run with SQLite's own calls, its values bound one by one.
///
/// Why: a load writes every row on one thread, while the geometry work runs on the others,
/// so that thread is what a city's land-use load waits on. Through GRDB, each row's values
/// were boxed as existentials into an array and a `StatementArguments`: an eighth of that
/// thread at 2.35 million 图斑. The statement stays in GRDB's hands and is left reset, as
/// `RowByKey` leaves its own.
struct RowInsert {
    let statement: Statement

    /// Binds values to the statement's parameters in order.
    struct Binder {
        fileprivate let s: OpaquePointer
        fileprivate var index: Int32 = 1
        fileprivate var failed: Int32 = SQLITE_OK

        private mutating func check(_ code: Int32) {
            if code != SQLITE_OK && failed == SQLITE_OK { failed = code }
            index += 1
        }

        mutating func null() { check(sqlite3_bind_null(s, index)) }
        mutating func integer(_ v: Int64) { check(sqlite3_bind_int64(s, index, v)) }
        mutating func real(_ v: Double) { check(sqlite3_bind_double(s, index, v)) }

        mutating func text(_ v: String) {
            var v = v
            // An empty buffer may have no address, which SQLite would take for NULL.
            let code =
                v.isEmpty
                ? sqlite3_bind_text(s, index, "", 0, nil)
                : v.withUTF8 { sqlite3_bind_text(s, index, $0.baseAddress, Int32($0.count), RowInsert.transient) }
            check(code)
        }

        mutating func blob(_ v: Data) {
            let code =
                v.isEmpty
                ? sqlite3_bind_zeroblob(s, index, 0)
                : v.withUnsafeBytes { sqlite3_bind_blob(s, index, $0.baseAddress, Int32($0.count), RowInsert.transient) }
            check(code)
        }

        mutating func attribute(_ a: AttributeValue) {
            switch a {
            case .null: null()
            case .integer(let i): integer(i)
            case .real(let d): real(d)
            case .text(let t): text(t)
            }
        }
    }

    /// SQLite copies what is bound before the call returns (`SQLITE_TRANSIENT`, a macro Swift
    /// does not import).
    fileprivate static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds the row's values with `bind`, in the statement's parameter order, and inserts it.
    /// Throws GRDB's `DatabaseError` with SQLite's code and message (a constraint, say).
    func insert(_ bind: (inout Binder) -> Void) throws {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        var binder = Binder(s: s)
        bind(&binder)
        guard binder.failed == SQLITE_OK else { throw RowByKey.error(binder.failed, statement) }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else { throw RowByKey.error(code, statement) }
    }

    /// A feature into a version's table (`LayerImporter.insert(into:fields:db:)`), its columns
    /// in the table's order.
    func feature(
        id: String, sourceFID: Int64, area: Double, length: Double, box: BoundingBox, attributes: [AttributeValue], blob: Data
    ) throws {
        try insert { b in
            b.text(id)
            b.integer(sourceFID)
            b.real(area)
            b.real(length)
            b.real(box.minX)
            b.real(box.minY)
            b.real(box.maxX)
            b.real(box.maxY)
            for a in attributes { b.attribute(a) }
            b.blob(blob)
        }
    }
}
