import GeoCore

/// Adjacent small polygons at an overview zoom, merged into blocks (coalescing).
///
/// At z10–z12 a farmland parcel is 3–12 pixels across and is drawn as its area box
/// (`AreaBoxes`). Parcels cut from one survey lie edge to edge along a valley, and as boxes
/// they became a grid of separate squares that a planner reads as noise. Here the parcels
/// whose boxes touch are grouped; a parcel alone keeps its area box (with its id), and each
/// group's outlines are unioned on the tile's integer grid into blocks, which the encoder then
/// clips, simplifies and checks as any outline. The union of parcels that do not overlap has
/// their area, so the tile's area stays the data's; the shape is the land's. A block stands
/// for many features: it has no id, and `om_merged` says how many (identify finds them).
/// (tippecanoe's `--coalesce` merges features with equal attributes into one; here they
/// merge geometrically as well, since their shared edges are noise at this zoom.)
struct ParcelBlocks {
    /// Where a parcel's outline comes from once it is known to be in a group: its row in the
    /// resident layer (placed as its tile needs), or its geometry read from the store.
    enum Outline {
        case resident(row: Int, box: FeatureShapes.TileBox)
        case geometry(Geometry)
    }

    struct Parcel {
        let id: UInt64
        let footprint: StoreLayerSource.Footprint
        let outline: Outline
    }

    private(set) var parcels: [Parcel] = []

    var isEmpty: Bool { parcels.isEmpty }

    mutating func add(id: UInt64, _ footprint: StoreLayerSource.Footprint, _ outline: Outline) {
        parcels.append(Parcel(id: id, footprint: footprint, outline: outline))
    }

    /// The parcels in groups of touching boxes (half a tile unit apart at most), each group in
    /// id order and the groups by their first id: the same parcels give the same groups
    /// whatever order they were read in.
    func groups() -> [[Int]] {
        let order = parcels.indices.sorted { parcels[$0].id < parcels[$1].id }
        var parent = Array(parcels.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i {
                parent[i] = parent[parent[i]]
                i = parent[i]
            }
            return i
        }
        // A grid of buckets as large as the largest box: a box meets only the boxes in the
        // buckets it lies in.
        let side = max(1, parcels.map { max($0.footprint.width, $0.footprint.height) }.max() ?? 1)
        let slack = 0.5
        var buckets: [Int64: [Int]] = [:]
        func range(_ p: Parcel) -> (ClosedRange<Int>, ClosedRange<Int>) {
            let f = p.footprint
            let x0 = Int(((f.x - f.width / 2 - slack) / side).rounded(.down)), x1 = Int(((f.x + f.width / 2 + slack) / side).rounded(.down))
            let y0 = Int(((f.y - f.height / 2 - slack) / side).rounded(.down)),
                y1 = Int(((f.y + f.height / 2 + slack) / side).rounded(.down))
            return (x0...x1, y0...y1)
        }
        func touch(_ a: StoreLayerSource.Footprint, _ b: StoreLayerSource.Footprint) -> Bool {
            abs(a.x - b.x) <= (a.width + b.width) / 2 + slack && abs(a.y - b.y) <= (a.height + b.height) / 2 + slack
        }
        for i in order {
            let (xs, ys) = range(parcels[i])
            for bx in xs {
                for by in ys {
                    let key = Int64(bx) << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: by)))
                    for j in buckets[key, default: []] where touch(parcels[i].footprint, parcels[j].footprint) {
                        let a = root(i), b = root(j)
                        if a != b { parent[max(a, b)] = min(a, b) }
                    }
                    buckets[key, default: []].append(i)
                }
            }
        }
        var members: [Int: [Int]] = [:]
        var firsts: [Int] = []
        for i in order {
            let r = root(i)
            if members[r] == nil { firsts.append(r) }
            members[r, default: []].append(i)
        }
        return firsts.map { members[$0]! }
    }

    /// The union of a group's outlines (tile units, rings open, exterior first), snap-rounded
    /// to whole tile units; nil when GEOS cannot make it (the parcels are then drawn as boxes).
    static func union(_ outlines: [[[TileVertex]]], engine: GeometryEngine) -> [[[TileVertex]]]? {
        let polygons = outlines.compactMap { rings -> Polygon? in
            guard let exterior = rings.first, exterior.count >= 3 else { return nil }
            return Polygon(rings.map { ring in ring.map { Coordinate($0.x, $0.y) } + [Coordinate(ring[0].x, ring[0].y)] })
        }
        guard !polygons.isEmpty, let merged = try? engine.make(.collection(polygons.map { .polygon($0) })).unaryUnion(gridSize: 1).value()
        else {
            return nil
        }
        return merged.polygons.map { p in p.rings.map { ring in ring.dropLast().map { TileVertex(x: $0.x, y: $0.y) } } }
    }
}
