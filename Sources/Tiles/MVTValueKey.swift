/// An attribute value keyed by a hash of its bytes, for the tables that dedupe values (a
/// layer's interned attributes, a tile's value table).
///
/// Why not `MVTValue` itself: Swift hashes and compares strings by Unicode canonical
/// equivalence, normalising every non-ASCII one (every Chinese name) on each lookup with a
/// SipHash on top, for each of the many lookups of a dense tile or of reading a large layer
/// into memory. Values are compared as stored, byte for byte, as MVT readers will see them.
struct MVTValueKey: Hashable {
    let hash: UInt64
    let value: MVTValue

    init(_ value: MVTValue) {
        self.value = value
        // FNV-1a over a type tag and the value's bytes.
        var h: UInt64 = 0xcbf29ce484222325
        @inline(__always) func mix(_ b: UInt64) { h = (h ^ b) &* 0x100000001b3 }
        switch value {
        case .string(let s): mix(1); for b in s.utf8 { mix(UInt64(b)) }
        case .int(let n): mix(2); mix(UInt64(bitPattern: n))
        case .double(let d): mix(3); mix(d.bitPattern)
        case .bool(let b): mix(4); mix(b ? 1 : 0)
        }
        hash = h
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func == (a: MVTValueKey, b: MVTValueKey) -> Bool {
        guard a.hash == b.hash else { return false }
        switch (a.value, b.value) {
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x.bitPattern == y.bitPattern
        case let (.bool(x), .bool(y)): return x == y
        default: return false
        }
    }
}
