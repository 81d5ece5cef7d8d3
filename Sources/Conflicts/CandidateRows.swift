import Foundation
import GRDB
import GeoCore
import LayerStore

/// A candidate query's current row (`StatementRows`): valid only until the statement steps on.
struct CandidateRow {
    let statement: SQLiteStatement
    let fields: LayerFields

    /// What a candidate query selects, in this order: the feature's id, area and geometry,
    /// its fields, then its box.
    static let columns: [FeatureTable.Column] = [.fid, .id, .areaM2, .geometry, .fields, .box]

    var fid: Int64 { Int64(sqliteStatement: statement, index: 0) }
    var areaM2: Double { Double(sqliteStatement: statement, index: 2) }

    var box: BoundingBox {
        let n = CInt(fields.names.count)
        return BoundingBox(
            Double(sqliteStatement: statement, index: 4 + n), Double(sqliteStatement: statement, index: 5 + n),
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

    /// One attribute by field name, as `properties` reads it; nil when the layer has no such field.
    func attribute(_ name: String) -> AttributeValue? {
        guard let i = fields.names.firstIndex(of: name) else { return nil }
        switch DatabaseValue(sqliteStatement: statement, index: CInt(4 + i)).storage {
        case .null, .blob: return .null
        case .int64(let n): return .integer(n)
        case .double(let d): return .real(d)
        case .string(let s): return .text(s)
        }
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
/// Why: filling a new dictionary would hash every field name for every conflicting feature,
/// and growing it instantiates generic metadata. A copy keeps the
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
