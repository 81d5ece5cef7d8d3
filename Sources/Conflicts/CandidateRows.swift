import Foundation
import GeoCore
import GRDB
import LayerStore

/// The rows of a layer's candidate query, read straight from the statement by column and
/// type, with no `Row` in between.
///
/// Why not GRDB's `RowCursor`: each cursor builds a `Row` that maps every column's lowercased
/// name to its index (15 names a query, for the farmland), and reading a value through `Row`'s
/// generic subscript instantiated generic metadata per call. Together they were a tenth of a
/// check. Here each column is read by the initialiser of its own type.
final class CandidateCursor: DatabaseCursor {
    typealias Element = CandidateRow
    let _statement: Statement
    var _isDone = false
    private let arguments: StatementArguments
    private let fields: LayerFields

    /// `statement` selects `CandidateRow.columns(fields:)`; `arguments` are bound anew (which
    /// resets it).
    init(statement: Statement, arguments: StatementArguments, fields: LayerFields) throws {
        _statement = statement
        self.arguments = arguments
        self.fields = fields
        try statement.setArguments(arguments)
    }

    deinit {
        // Left part-way (a check that threw): reset, so the cached statement does not keep this
        // connection's read snapshot open. Binding the arguments again resets it.
        if !_isDone { try? _statement.setArguments(arguments) }
    }

    func _element(sqliteStatement: SQLiteStatement) throws -> CandidateRow {
        CandidateRow(statement: sqliteStatement, fields: fields)
    }
}

/// The cursor's current row: valid only until the cursor moves on.
struct CandidateRow {
    let statement: SQLiteStatement
    let fields: LayerFields

    /// The select list, for a table `t`: the feature's id, area and geometry, its fields
    /// (`fields`, quoted), then its box.
    static func columns(fields: [String]) -> String {
        let quoted = fields.map { ", t.\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined()
        return "t.om_fid, t.om_id, t.om_area_m2, t.geom\(quoted), t.om_minx, t.om_miny, t.om_maxx, t.om_maxy"
    }

    var fid: Int64 { Int64(sqliteStatement: statement, index: 0) }
    var areaM2: Double { Double(sqliteStatement: statement, index: 2) }

    var box: BoundingBox {
        let n = CInt(fields.names.count)
        return BoundingBox(Double(sqliteStatement: statement, index: 4 + n), Double(sqliteStatement: statement, index: 5 + n),
                           Double(sqliteStatement: statement, index: 6 + n), Double(sqliteStatement: statement, index: 7 + n))
    }

    /// The catalog's id (`om_id` is NOT NULL).
    var id: String { String(sqliteStatement: statement, index: 1) }

    /// The geometry, decoded from SQLite's buffer.
    func geometry(fid: Int64) throws -> Geometry {
        guard let g = try SpatiaLiteGeometry.decode(column: 3, of: statement) else {
            throw GeometryFormatError("feature \(fid) has no geometry")
        }
        return g
    }

    /// The SpatiaLite geometry blob, copied: for a feature kept beyond this row.
    func blob(fid: Int64) throws -> Data {
        guard case .blob(let data) = DatabaseValue(sqliteStatement: statement, index: 3).storage else {
            throw GeometryFormatError("feature \(fid) has no geometry")
        }
        return data
    }

    /// Every attribute by field name, as stored: SQLite's storage class decides the case, as it
    /// did through `Row`; a blob attribute, which no source format gives, reads as null.
    var properties: [String: AttributeValue] {
        var properties = fields.empty
        for (i, slot) in fields.slots.enumerated() {
            let value: AttributeValue
            switch DatabaseValue(sqliteStatement: statement, index: CInt(4 + i)).storage {
            case .null, .blob: value = .null
            case .int64(let n): value = .integer(n)
            case .double(let d): value = .real(d)
            case .string(let s): value = .text(s)
            }
            properties.values[slot] = value
        }
        return properties
    }
}

/// A layer's attribute fields, with the properties of a feature that has none set: every
/// feature's properties start as a copy of it and are filled in place by index.
///
/// Why: filling a new dictionary hashed every field name for every conflicting feature, and
/// growing it instantiated generic metadata: a twentieth of a check. A copy keeps the
/// original's layout (same capacity, seed and age), so the indices found here once are valid
/// in every copy, and setting a value at an index hashes nothing.
final class LayerFields: Sendable {
    let names: [String]
    let empty: [String: AttributeValue]
    /// The index of each field's entry in `empty`, in field order (a repeated name shares one).
    let slots: [Dictionary<String, AttributeValue>.Index]

    init(names: [String]) {
        self.names = names
        var empty: [String: AttributeValue] = [:]
        empty.reserveCapacity(names.count)
        for name in names { empty[name] = .null }
        self.empty = empty
        slots = names.map { empty.index(forKey: $0)! }
    }
}
