import LandUse

/// A feature made ready for one tile, before its layer is put together.
struct PreparedFeature {
    let id: UInt64
    let geometry: EncodedGeometry
    let values: FeatureValues
    /// Its box's larger side, tile units (the smallest go first when the tile is too big).
    let size: Double
    let centreX: Double
    let centreY: Double
    /// The area of the data, tile units², for when it joins the coverage cells.
    let dataArea: Double
}

/// A feature's attributes: read for this tile (one value or none per field), or a row of
/// the resident layer's interned attributes, whose values the tile's value table then finds
/// by their index rather than by hashing them.
enum FeatureValues {
    case read([MVTValue?])
    case interned(row: Int)
    /// None: an overview's area box, which stands for where the feature is, not what it is.
    case none
    /// A block of adjacent parcels (`ParcelBlocks`): no id, and how many it stands for.
    case merged(count: Int)
}

/// Puts a layer together within its byte budget. When the plain layer is too big it sheds,
/// in this order (after tippecanoe's "drop/coalesce densest as needed", but deterministic):
/// 1. attributes with nearly one value per feature (codes, serial numbers, exact areas):
///    they cost the most and style nothing; the feature id stays, for identify;
/// 2. vertices, when that can be enough (less than 1.5 times the budget): the outlines are
///    simplified again at 4 tile units (half a pixel of a 512-pixel tile), never more than an
///    eighth of a feature's size, which keeps every feature and, within a few percent, its area;
/// 3. the costliest half of the coverage cells, again and again: every polygon whose centre
///    lies in such a cell joins the cell's square (area kept); for lines and points, the
///    smaller half is dropped;
/// 4. coarser coverage cells.
struct LayerTileAssembler {
    let name: String
    let fields: [String]
    let extent: Int
    let budget: Int
    /// Where `.interned` rows are: the resident layer's attributes.
    var attributes: FeatureAttributes? = nil
    /// A land-use layer's code field (its index in `fields`) and classification: its coverage
    /// is merged by land class (`ClassRegion`) rather than drawn as classless squares.
    var landUse: (field: Int, classification: LandClassification)? = nil

    func build(_ features: [PreparedFeature], coverage: CoverageGrid) -> [UInt8] {
        var features = features
        var coverage = coverage
        var dropped = [Bool](repeating: false, count: fields.count)
        var bytes = assemble(features, dropped: dropped, coverage: coverage)
        if bytes.count <= budget { return bytes }
        dropped = highCardinality(features)
        if dropped.contains(true) {
            bytes = assemble(features, dropped: dropped, coverage: coverage)
        }
        // Simplifying again saves a third at most: worth one pass only when that can be enough.
        let original = features
        var tolerance = 4.0
        while bytes.count > budget && bytes.count < budget * 3 / 2 && tolerance <= 4
            && features.contains(where: { $0.geometry.type != .point })
        {
            features = []
            for f in original {
                // Never more than an eighth of the feature's size: past that, corners go and
                // the area with them; such small features go to the coverage cells instead.
                let g = f.geometry.simplified(tolerance: min(tolerance, f.size / 8))
                if g.commands.isEmpty {
                    if g.type == .polygon { coverage.add(x: f.centreX, y: f.centreY, area: f.dataArea, code: code(of: f, in: &coverage)) }
                    continue
                }
                features.append(
                    PreparedFeature(
                        id: f.id, geometry: g, values: f.values, size: f.size,
                        centreX: f.centreX, centreY: f.centreY, dataArea: f.dataArea))
            }
            bytes = assemble(features, dropped: dropped, coverage: coverage)
            tolerance *= 2
        }
        while bytes.count > budget {
            if features.contains(where: { $0.geometry.type == .polygon }) {
                // Cells twice the largest outline left, so each cell's square can hold its parcels.
                let largest = features.filter { $0.geometry.type == .polygon }.map(\.size).max() ?? 0
                coverage.ensureCell(atLeast: min(extent / 8, Int(2 * largest.rounded(.up))))
                let cost = features.map { (x: $0.centreX, y: $0.centreY, cost: Double($0.geometry.commands.count + 8)) }
                let total = cost.reduce(0) { $0 + $1.cost }
                let move = CoverageGrid.shed(cost, cellSize: coverage.cellSize, extent: extent, budget: total / 2)
                var kept: [PreparedFeature] = []
                for (f, m) in zip(features, move) {
                    if !m {
                        kept.append(f)
                    } else if f.geometry.type == .polygon {
                        coverage.add(x: f.centreX, y: f.centreY, area: f.dataArea, code: code(of: f, in: &coverage))
                    }
                }
                features = kept
            } else if !features.isEmpty {
                // Lines and points: the larger half stays.
                features.sort { ($0.size, $0.id) > ($1.size, $1.id) }
                features.removeSubrange((features.count / 2)...)
                features.sort { $0.id < $1.id }
            } else if coverage.cellSize < extent / 8 {
                coverage.coarsen()
            } else {
                break
            }
            bytes = assemble(features, dropped: dropped, coverage: coverage)
        }
        return bytes
    }

    /// The id of a feature's land-use code in the coverage grid (-1: none, or not land use).
    func code(of f: PreparedFeature, in coverage: inout CoverageGrid) -> Int32 {
        guard let landUse, coverage.codeNames != nil else { return -1 }
        switch f.values {
        case .interned(let row): return attributes?.indices[landUse.field][row] ?? -1
        case .read(let values): return coverage.codeId(of: values[landUse.field])
        case .none, .merged: return -1
        }
    }

    /// Fields whose values are almost all distinct in this tile. A resident layer's are told
    /// by their interned numbers, without hashing a value: those of a field the layer holds
    /// nearly one value per feature of (`isDistinct`) are each feature's own, and the others'
    /// stand one for one for their distinct values. Hashing every value of every field was a
    /// fifth of a z12 tile of the city's 图斑.
    func highCardinality(_ features: [PreparedFeature]) -> [Bool] {
        guard features.count >= 64 else { return [Bool](repeating: false, count: fields.count) }
        return fields.indices.map { i in
            let distinct = attributes?.isDistinct(i) ?? false
            var seen = Set<MVTValueKey>()
            var seenInterned = Set<Int32>()
            var own = 0
            for f in features {
                switch f.values {
                case .read(let values): if let v = values[i] { seen.insert(MVTValueKey(v)) }
                case .interned(let row):
                    guard let id = attributes?.indices[i][row], id >= 0 else { break }
                    if distinct { own += 1 } else { seenInterned.insert(id) }
                case .none, .merged: break
                }
            }
            return (seen.count + seenInterned.count + own) * 2 > features.count
        }
    }

    func assemble(_ features: [PreparedFeature], dropped: [Bool], coverage: CoverageGrid) -> [UInt8] {
        var layer = MVTLayerBuilder(name: name, extent: extent)
        layer.reserve(features: features.count + 1, values: features.count * max(1, fields.count) / 2 + 8, interned: attributes != nil)
        let keys = fields.map { layer.keyIndex($0) }
        var tags: [UInt32] = []
        var interned = attributes.map { InternedValues($0, dropped: dropped) }
        for f in features {
            tags.removeAll(keepingCapacity: true)
            switch f.values {
            case .read(let values):
                for i in fields.indices where !dropped[i] {
                    guard let v = values[i] else { continue }
                    tags.append(keys[i])
                    tags.append(layer.valueIndex(v))
                }
            case .interned(let row):
                interned?.tags(row: row, keys: keys, into: &tags, layer: &layer)
            case .none:
                break
            case .merged(let count):
                tags.append(layer.keyIndex("om_merged"))
                tags.append(layer.valueIndex(.int(Int64(count))))
            }
            // A block is no feature of the data: it has no id.
            let id: UInt64? = if case .merged = f.values { nil } else { f.id }
            layer.addFeature(id: id, type: f.geometry.type, geometry: f.geometry.commands, tags: tags)
        }
        if let landUse, coverage.codeNames != nil {
            // One feature per land class: no id, the class's commonest code in the code field
            // (what the style colours by), its 一级类, and how many 图斑 it stands for.
            for region in coverage.classRegions(landUse.classification) {
                var writer = MVTGeometryWriter()
                for ring in region.rings { writer.ring(ring) }
                layer.addFeature(
                    id: nil, type: .polygon, geometry: writer.commands,
                    properties: [
                        (fields[landUse.field], .string(region.code)), ("om_class", .string(region.classCode)),
                        ("om_merged", .int(Int64(region.count)))
                    ])
            }
            return layer.encoded()
        }
        let rings = coverage.blocks()
        if !rings.isEmpty {
            var writer = MVTGeometryWriter()
            for r in rings { writer.ring(r) }
            // One feature for all the blocks and squares: no id (it is no feature of the
            // data), and how many features it stands for.
            layer.addFeature(
                id: nil, type: .polygon, geometry: writer.commands,
                properties: [("om_merged", .int(Int64(coverage.totalCount)))])
        }
        return layer.encoded()
    }
}
