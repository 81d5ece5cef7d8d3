import Foundation
import GeoCore
import LayerStore
import Synchronization

/// A large layer's candidate rows (id, stored area, geometry blob, attributes) copied out of
/// SQLite into one buffer, for checkers that live long (see `LayerBoxes`).
///
/// Why: with the boxes searched in memory, a medium site's check spent a third of its time
/// in SQLite looking its candidates up by fid one at a time (binding, stepping the VDBE,
/// seeking the B-tree, resetting), more than deciding their overlaps. Here a candidate is an
/// offset into an array. Every row is copied, not only those a check has met, so each site
/// costs the same whether or not another check came by before (no cache to warm). The copy
/// is ~1.7× the blobs' size (300 bytes a farmland parcel), so it is bounded by a
/// `RowMemory` budget; a layer over it keeps reading rows from SQLite.
final class PackedRows: Sendable {
    let fields: LayerFields
    /// Each row's stored ellipsoidal area, by item.
    let areas: [Double]
    /// Row `i` is `bytes[starts[i] ..< starts[i + 1]]`: its id (text), its geometry (blob),
    /// then each field's value, each as `Packing` writes it.
    private let bytes: [UInt8]
    private let starts: [Int]
    private let budget: RowMemory

    var count: Int { areas.count }
    var byteCount: Int { bytes.count }

    fileprivate init(fields: LayerFields, areas: [Double], bytes: [UInt8], starts: [Int], budget: RowMemory) {
        self.fields = fields
        self.areas = areas
        self.bytes = bytes
        self.starts = starts
        self.budget = budget
    }

    deinit { budget.release(bytes.count) }

    /// Calls `body` with row `item`'s values, in the order they were packed.
    fileprivate func withValues<T>(_ item: Int, _ body: (inout Packing.Reader) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { raw in
            var reader = Packing.Reader(raw, offset: starts[item])
            return try body(&reader)
        }
    }

    /// Builds rows as a scan of `CandidateRow.columns` gives them; nil when they outgrow the
    /// budget (what was reserved is given back).
    struct Builder {
        let fields: LayerFields
        let budget: RowMemory
        private var areas: [Double] = []
        private var bytes: [UInt8] = []
        private var starts: [Int] = [0]
        private var reserved = 0
        private(set) var overBudget = false

        init(fields: LayerFields, budget: RowMemory) {
            self.fields = fields
            self.budget = budget
        }

        /// Appends the current row of a candidate scan; false once the budget is spent.
        mutating func append(_ row: CandidateRow) -> Bool {
            guard !overBudget else { return false }
            areas.append(row.areaM2)
            for column in 0..<Int32(2 + fields.names.count) {
                // The id (1), the geometry (3), then the fields (4…).
                Packing.append(ColumnValue(column: column == 0 ? 1 : column + 2, of: row.statement), to: &bytes)
            }
            starts.append(bytes.count)
            // Reserved in steps of 4 MiB, not per row: the budget is shared behind a lock.
            let step = 4 << 20
            if bytes.count > reserved {
                guard budget.reserve(step) else { overBudget = true; budget.release(reserved); reserved = 0; return false }
                reserved += step
            }
            return true
        }

        /// The rows, holding exactly their bytes against the budget.
        mutating func finish() -> PackedRows? {
            guard !overBudget else { return nil }
            bytes.shrinkToFit()
            budget.release(reserved - bytes.count)
            reserved = 0
            return PackedRows(fields: fields, areas: areas, bytes: bytes, starts: starts, budget: budget)
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func shrinkToFit() {
        if capacity > count + count / 8 { self = Array(self) }
    }
}

/// One packed row, as a check reads it: the same questions as a `CandidateRow`.
struct PackedRow {
    let rows: PackedRows
    let item: Int

    var areaM2: Double { rows.areas[item] }

    var id: String { rows.withValues(item) { $0.text() } }

    func geometry(fid: Int64) throws -> Geometry {
        try rows.withValues(item) { reader in
            reader.skip()
            guard let blob = reader.blob() else { throw GeometryFormatError("feature \(fid) has no geometry") }
            return try SpatiaLiteGeometry.decode(blob)
        }
    }

    func blob(fid: Int64) throws -> Data {
        try rows.withValues(item) { reader in
            reader.skip()
            guard let blob = reader.blob() else { throw GeometryFormatError("feature \(fid) has no geometry") }
            return Data(blob)
        }
    }

    func attribute(_ name: String) -> AttributeValue? {
        guard let i = rows.fields.names.firstIndex(of: name) else { return nil }
        return rows.withValues(item) { reader in
            for _ in 0..<(2 + i) { reader.skip() }
            return reader.value()
        }
    }

    /// Every attribute by field name (see `CandidateRow.properties`).
    var properties: [String: AttributeValue] {
        var properties = rows.fields.empty
        rows.withValues(item) { reader in
            reader.skip()
            reader.skip()
            for slot in rows.fields.slots { properties.values[slot] = reader.value() }
        }
        return properties
    }
}

/// How a value is laid out in `PackedRows`: a tag byte, then 8 bytes for a number, or a
/// 4-byte length and the bytes for text or a blob. Little-endian, as every machine OneMap
/// runs on; the buffer never leaves the process.
enum Packing {
    static let null: UInt8 = 0, integer: UInt8 = 1, real: UInt8 = 2, text: UInt8 = 3, blob: UInt8 = 4

    static func append(_ value: ColumnValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(null)
        case .integer(let n):
            bytes.append(integer)
            withUnsafeBytes(of: n.littleEndian) { bytes.append(contentsOf: $0) }
        case .real(let d):
            bytes.append(real)
            withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .text(var raw):
            // Up to a NUL, as GRDB reads text (a C string) everywhere else OneMap reads it.
            if let end = raw.firstIndex(of: 0) { raw = UnsafeRawBufferPointer(rebasing: raw[..<end]) }
            bytes.append(text)
            withUnsafeBytes(of: UInt32(raw.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: raw)
        case .blob(let raw):
            bytes.append(blob)
            withUnsafeBytes(of: UInt32(raw.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: raw)
        }
    }

    /// Reads values one after another from a row's start.
    struct Reader {
        let raw: UnsafeRawBufferPointer
        var offset: Int

        init(_ raw: UnsafeRawBufferPointer, offset: Int) {
            self.raw = raw
            self.offset = offset
        }

        private mutating func tag() -> UInt8 {
            defer { offset += 1 }
            return raw[offset]
        }

        private mutating func word() -> UInt64 {
            defer { offset += 8 }
            return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }

        private mutating func bytes() -> UnsafeRawBufferPointer {
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            defer { offset += 4 + count }
            return UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 4 + count)])
        }

        mutating func skip() {
            switch tag() {
            case Packing.integer, Packing.real: offset += 8
            case Packing.text, Packing.blob: _ = bytes()
            default: break
            }
        }

        /// The value as `CandidateRow` reads it: SQLite's storage class decides the case, a
        /// blob attribute reads as null.
        mutating func value() -> AttributeValue {
            switch tag() {
            case Packing.integer: return .integer(Int64(bitPattern: word()))
            case Packing.real: return .real(Double(bitPattern: word()))
            case Packing.text: return .text(String(decoding: bytes(), as: UTF8.self))
            case Packing.blob: _ = bytes(); return .null
            default: return .null
            }
        }

        /// Text (the id); empty for any other value.
        mutating func text() -> String {
            guard case .text(let s) = value() else { return "" }
            return s
        }

        mutating func blob() -> UnsafeRawBufferPointer? {
            guard tag() == Packing.blob else { return nil }
            return bytes()
        }
    }
}

/// How many bytes of rows a checker may hold in memory, across the layers it has packed.
final class RowMemory: Sendable {
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    func reserve(_ n: Int) -> Bool {
        used.withLock { used in
            guard used + n <= limit else { return false }
            used += n
            return true
        }
    }

    func release(_ n: Int) { used.withLock { $0 -= n } }

    var bytesUsed: Int { used.withLock { $0 } }
}
