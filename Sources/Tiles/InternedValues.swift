/// The tile's value indices of a resident layer's interned attributes. Each field is looked up
/// the cheapest way its values allow: a field with nearly one value per feature appends each
/// feature's value (it is new to the tile by construction), a field with few values (a land
/// class, a village code) looks its tile index up in an array by the interned number, and
/// only a large shared table goes through a dictionary. Hashing every value of a dense z14
/// tile was a fifth of its assembly.
struct InternedValues {
    private enum Way {
        case dropped
        case distinct
        case dense
        case hashed
    }
    /// Up to this many distinct values a field's tile indices are a plain array.
    static let denseLimit = 1 << 16
    private let attributes: FeatureAttributes
    private let ways: [Way]
    private var dense: [[UInt32]]

    init(_ attributes: FeatureAttributes, dropped: [Bool]) {
        self.attributes = attributes
        let ways: [Way] = dropped.indices.map { i in
            dropped[i]
                ? .dropped
                : attributes.isDistinct(i) ? .distinct : attributes.tables[i].count <= Self.denseLimit ? .dense : .hashed
        }
        self.ways = ways
        dense = ways.indices.map { i in ways[i] == .dense ? [UInt32](repeating: .max, count: attributes.tables[i].count) : [] }
    }

    /// Appends feature `row`'s (key, value) index pairs.
    mutating func tags(row: Int, keys: [UInt32], into tags: inout [UInt32], layer: inout MVTLayerBuilder) {
        for i in ways.indices {
            let way = ways[i]
            if way == .dropped { continue }
            let id = attributes.indices[i][row]
            guard id >= 0 else { continue }
            let value: UInt32
            switch way {
            case .distinct:
                value = layer.addValue(attributes.tables[i][Int(id)])
            case .dense:
                let known = dense[i][Int(id)]
                if known != .max {
                    value = known
                } else {
                    value = layer.addValue(attributes.tables[i][Int(id)])
                    dense[i][Int(id)] = value
                }
            case .hashed, .dropped:
                value = layer.valueIndex(interned: Int64(i) << 32 | Int64(id)) { attributes.tables[i][Int(id)] }
            }
            tags.append(keys[i])
            tags.append(value)
        }
    }
}
