import GRDB
import LayerStore

/// Every feature's attributes of a large layer version, held in memory for tiles.
///
/// Each field keeps its distinct values once and every feature an index into them: a land
/// class or a village name is stored once for the layer, not once a parcel, and a tile turns
/// a feature's attributes into MVT values without reading SQL.
struct FeatureAttributes {
    /// Per field: the distinct values in first-seen order (every value, for a field that is
    /// not interned).
    private(set) var tables: [[MVTValue]]
    /// Fields given up on: nearly every value distinct (codes, serial numbers, exact areas),
    /// where a lookup per value costs time and saves nothing.
    private var notInterned: [Bool]
    private var featureCount = 0
    /// Per field: each feature's index into its table, or -1 for no value.
    private(set) var indices: [[Int32]]
    private var lookup: [[MVTValueKey: Int32]]

    init(fieldCount: Int) {
        tables = Array(repeating: [], count: fieldCount)
        indices = Array(repeating: [], count: fieldCount)
        lookup = Array(repeating: [:], count: fieldCount)
        notInterned = Array(repeating: false, count: fieldCount)
    }

    /// Room for this many features.
    mutating func reserve(features n: Int) {
        for f in indices.indices { indices[f].reserveCapacity(n) }
    }

    /// The MVT value of a stored attribute: NULL, blobs and non-finite numbers have none
    /// (MVT has no null; a missing key is how a feature says "no value").
    static func value(_ v: DatabaseValue) -> MVTValue? {
        switch v.storage {
        case .int64(let n): return .int(n)
        case .double(let d): return d.isFinite ? .double(d) : nil
        case .string(let s): return .string(s)
        case .blob, .null: return nil
        }
    }

    /// Appends the next feature's values, one per field.
    mutating func append(_ values: [MVTValue?]) {
        featureCount += 1
        for (f, value) in values.enumerated() {
            guard let value else { indices[f].append(-1); continue }
            if !notInterned[f] && featureCount >= 1024 && tables[f].count * 2 > featureCount {
                notInterned[f] = true
                lookup[f] = [:]
            }
            if notInterned[f] {
                indices[f].append(Int32(tables[f].count))
                tables[f].append(value)
                continue
            }
            let key = MVTValueKey(value)
            if let known = lookup[f][key] {
                indices[f].append(known)
            } else {
                let next = Int32(tables[f].count)
                tables[f].append(value)
                lookup[f][key] = next
                indices[f].append(next)
            }
        }
    }

    /// Drops the build-time lookups, which would otherwise hold every distinct value twice.
    mutating func seal() { lookup = [] }

    /// Whether the field was given up on as nearly all distinct: each feature has its own entry
    /// in the table, so a feature's index is never another's.
    func isDistinct(_ field: Int) -> Bool { notInterned[field] }

    /// Feature `row`'s value of one field.
    func value(field: Int, row: Int) -> MVTValue? {
        let k = indices[field][row]
        return k < 0 ? nil : tables[field][Int(k)]
    }
}
