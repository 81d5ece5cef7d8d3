import Foundation
import GeoCore

/// Every feature's geometry of a large layer version, held in memory in flat arrays, so a
/// tile reads no SQL and decodes no blob: on 500,000 parcels those are most of a cold tile.
///
/// Coordinates are `Float` offsets in degrees from the feature's own corner (a `Double`):
/// half the memory of lon/lat doubles (8 bytes a vertex, ~32 MiB for 500,000 parcels), and
/// exact to 1/16,000,000 of the feature's size: a micrometre on a parcel, a few millimetres
/// on a 50 km zone. Rings are stored open
/// (the closing vertex dropped), as the tile encoder wants them.
struct FeatureShapes {
    enum PartKind: UInt8 {
        case exterior, hole, line, points
    }

    /// Feature i's parts are `featurePart[i] ..< featurePart[i + 1]`.
    private(set) var featurePart: [Int32] = [0]
    /// Part p's vertices are `partVertex[p] ..< partVertex[p + 1]`.
    private(set) var partVertex: [Int32] = [0]
    private(set) var partKind: [PartKind] = []
    /// Interleaved lon, lat offsets from the feature's origin.
    private(set) var offsets: [Float] = []
    private(set) var originLon: [Double] = []
    private(set) var originLat: [Double] = []
    /// The height of each feature's box in degrees.
    private(set) var height: [Float] = []
    /// How far a straight Mercator chord across each feature's box can stray, in world units
    /// (see `Placement`): worked out once, so a tile needs no trigonometry to decide.
    private(set) var chordError: [Float] = []

    var count: Int { originLon.count }
    var vertexCount: Int { offsets.count / 2 }

    /// Room for this many features (their vertices grow as they come: about eight a parcel).
    mutating func reserve(features n: Int) {
        guard n > 0 else { return }
        featurePart.reserveCapacity(n + 1)
        partVertex.reserveCapacity(n + 1)
        partKind.reserveCapacity(n)
        offsets.reserveCapacity(n * 16)
        originLon.reserveCapacity(n)
        originLat.reserveCapacity(n)
        height.reserveCapacity(n)
        chordError.reserveCapacity(n)
    }

    /// Appends a feature; `origin` is its box's lower-left corner, `top` the box's upper edge.
    mutating func append(_ g: Geometry, origin: Coordinate, top: Double) {
        originLon.append(origin.x)
        originLat.append(origin.y)
        let h = max(0, top - origin.y)
        height.append(Float(h))
        // |y''|·h²/8 with y'' = sec φ tan φ / 2π per radian², at the steeper end of the box.
        let phi = max(abs(origin.y), abs(top)) * .pi / 180, c = cos(phi), hr = h * .pi / 180
        chordError.append(c > 1e-9 ? Float(abs(tan(phi)) / (c * 2 * .pi) * hr * hr / 8) : .infinity)
        // A stray collection keeps its dominant dimension, as the encoder does.
        switch g.dimension ?? 0 {
        case 2:
            for polygon in g.polygons {
                for (i, ring) in polygon.rings.enumerated() {
                    let open = ring.count > 1 && ring.first == ring.last ? ring.dropLast() : ring[...]
                    addPart(i == 0 ? .exterior : .hole, open, origin)
                }
            }
        case 1:
            for line in g.lineStrings { addPart(.line, line[...], origin) }
        default:
            addPart(.points, g.points[...], origin)
        }
        featurePart.append(Int32(partKind.count))
    }

    private mutating func addPart(_ kind: PartKind, _ coordinates: ArraySlice<Coordinate>, _ origin: Coordinate) {
        partKind.append(kind)
        for c in coordinates {
            offsets.append(Float(c.x - origin.x))
            offsets.append(Float(c.y - origin.y))
        }
        partVertex.append(Int32(offsets.count / 2))
    }

    /// How one feature's offsets land in a tile's units.
    ///
    /// x is linear in longitude in both grids, and so is y in the geographic one. In Mercator
    /// y is not, but across a small box it is nearly so: the chord between the box's top and
    /// bottom is off by at most |y''|·h²/8 (y'' = sec φ tan φ / 2π per radian²). When that is
    /// under a twentieth of a tile unit at this zoom, the chord is used (a multiply-add a
    /// vertex instead of a log and a tan); otherwise every vertex is projected exactly.
    struct Placement {
        let ax: Double, bx: Double
        let ay: Double, by: Double
        let exact: Bool
        let transform: TileTransform
        let lon0: Double, lat0: Double

        @inline(__always) func apply(_ dx: Float, _ dy: Float) -> TileVertex {
            if exact {
                let p = transform.apply(lon0 + Double(dx), lat0 + Double(dy))
                return TileVertex(x: p.x, y: p.y)
            }
            return TileVertex(x: ax + bx * Double(dx), y: ay + by * Double(dy))
        }
    }

    /// Where feature i's box lies in the tile: its west edge, and its bottom and top, in tile
    /// units (the resident layer has them projected already).
    struct TileBox {
        let west: Double, bottom: Double, top: Double
    }

    func placement(_ i: Int, _ t: TileTransform, box: TileBox) -> Placement {
        let lon0 = originLon[i], lat0 = originLat[i], h = Double(height[i])
        let chord = t.grid.projection == .geographic || (h > 0 && Double(chordError[i]) * t.scale < 0.05)
        guard chord else { return Placement(ax: 0, bx: 0, ay: 0, by: 0, exact: true, transform: t, lon0: lon0, lat0: lat0) }
        let by = t.grid.projection == .geographic || h == 0 ? -t.scale / 360 : (box.top - box.bottom) / h
        return Placement(ax: box.west, bx: t.scale / 360, ay: box.bottom, by: by, exact: false, transform: t, lon0: lon0, lat0: lat0)
    }

    func kind(_ i: Int) -> PartKind? {
        let p = Int(featurePart[i])
        return p < Int(featurePart[i + 1]) ? partKind[p] : nil
    }

    private func vertices(_ p: Int, _ place: Placement) -> [TileVertex] {
        let start = Int(partVertex[p]), end = Int(partVertex[p + 1])
        var out: [TileVertex] = []
        out.reserveCapacity(end - start)
        offsets.withUnsafeBufferPointer { o in
            for v in start..<end { out.append(place.apply(o[2 * v], o[2 * v + 1])) }
        }
        return out
    }

    /// Feature i's polygons in tile units, rings open, exterior first.
    func polygons(_ i: Int, _ t: TileTransform, box: TileBox) -> [[[TileVertex]]] {
        let place = placement(i, t, box: box)
        var out: [[[TileVertex]]] = []
        for p in Int(featurePart[i])..<Int(featurePart[i + 1]) {
            switch partKind[p] {
            case .exterior: out.append([vertices(p, place)])
            case .hole where !out.isEmpty: out[out.count - 1].append(vertices(p, place))
            default: continue
            }
        }
        return out
    }

    /// Feature i's lines in tile units.
    func lines(_ i: Int, _ t: TileTransform, box: TileBox) -> [[TileVertex]] {
        let place = placement(i, t, box: box)
        return (Int(featurePart[i])..<Int(featurePart[i + 1])).filter { partKind[$0] == .line }.map { vertices($0, place) }
    }

    /// Feature i's points in tile units.
    func points(_ i: Int, _ t: TileTransform, box: TileBox) -> [TileVertex] {
        let place = placement(i, t, box: box)
        return (Int(featurePart[i])..<Int(featurePart[i + 1])).filter { partKind[$0] == .points }.flatMap { vertices($0, place) }
    }
}
