import Foundation

/// The ellipsoidal area a feature shares with a region (a site), summed along the boundary of
/// their overlap without building it.
///
/// Why: a check needs the area of each parcel's overlap with the site, and building the
/// overlap polygon (GEOS's overlay, or clipping) costs far more than its area. The boundary of
/// the overlap is the feature's edges inside the region and the region's edges inside the
/// feature, cut where the two cross; a polygon's area is a sum over its edges (Green's
/// theorem), so the overlap's area is the sum of those pieces' terms. Every piece is a
/// straight segment between the same points an overlay's result has as vertices (the
/// original vertices and the crossings), so the sum is the area of the polygon PostGIS's
/// `ST_Area(ST_Intersection(…)::geography)` measures, edge for edge, whatever the shapes:
/// concave, with holes, in parts, a feature larger than the site or the other way round.
///
/// Each crossing is found once and used by both walks, so the pieces close into loops
/// exactly. What the walks cannot decide robustly they refuse (nil), and the caller overlays
/// instead: a vertex of either within `tolerance` of an edge of the other (shared or touching
/// boundaries, which digitised plots often have), or inside/outside states that disagree.
extension PolygonRegion {
    /// A crossing of a feature edge with a region edge: `t` along the feature edge, `u` along
    /// the region's, at `point`.
    struct Crossing {
        let regionEdge: Int32
        let t: Double
        let u: Double
        let point: Coordinate
    }

    /// The area in m² of the part of `polygons` (a feature, lon/lat, with `box` its box) inside
    /// this region; 0 when they do not overlap; nil when the overlap spans more than
    /// `spanLimitM` metres either way (the plane's edges would drift from geodesics, see
    /// `EqualAreaPlane`) or when the boundaries touch too closely to decide (see above).
    public func overlapArea(with polygons: [Polygon], box featureBox: BoundingBox, spanLimitM: Double) -> Double? {
        guard let shared = featureBox.intersection(box) else { return 0 }
        guard var plane = PieceTerms(over: shared, spanLimitM: spanLimitM) else { return nil }
        let feature = FeatureRings(polygons)

        // The region's edges near the feature: each feature edge's are among them.
        let t = tolerance
        let near = BoundingBox(featureBox.minX - t, featureBox.minY - t, featureBox.maxX + t, featureBox.maxY + t)
        var nearFeature: [Int32] = []
        edges(near: near, into: &nearFeature)

        var crossings: [Crossing] = []
        var total = 0.0
        guard addFeatureEdgesInside(feature, nearFeature: nearFeature, plane: &plane, total: &total, crossings: &crossings) else {
            return nil
        }
        crossings.sort { ($0.regionEdge, $0.u) < ($1.regionEdge, $1.u) }
        guard addRegionEdgesInside(feature, nearFeature: nearFeature, crossings: crossings, plane: &plane, total: &total) else {
            return nil
        }
        // Rounding can leave a few µm² of an overlap that is only a touch.
        guard total > -1e-6 else { return nil }
        return max(0, total)
    }

    /// Adds to `total` the terms of the feature's edges inside the region, cut where they cross
    /// the region's edges, and appends those crossings to `crossings`; false when it cannot
    /// decide. `nearFeature` is the region's edges near the feature, ascending.
    @inline(__always) private func addFeatureEdgesInside(
        _ feature: FeatureRings, nearFeature: [Int32], plane: inout PieceTerms,
        total: inout Double, crossings: inout [Crossing]
    ) -> Bool {
        // When the region's edges near the feature are few (a parcel on a site's edge meets a
        // handful), each feature edge's are picked from that list: cheaper than looking each
        // edge up in the grid, sorted and deduplicated.
        let pickFromNear = nearFeature.count <= 48
        let t = tolerance
        let reach = BoundingBox(box.minX - t, box.minY - t, box.maxX + t, box.maxY + t)
        var nearby: [Int32] = []
        var edgeCrossings: [Crossing] = []
        for ring in feature.rings {
            let first = feature.points[ring.lowerBound]
            var inside =
                first.x >= reach.minX && first.x <= reach.maxX && first.y >= reach.minY && first.y <= reach.maxY
                && contains(first)
            let started = inside
            for i in ring {
                let a = feature.points[i], b = feature.points[i + 1 == ring.upperBound ? ring.lowerBound : i + 1]
                let edgeBox = BoundingBox(min(a.x, b.x) - t, min(a.y, b.y) - t, max(a.x, b.x) + t, max(a.y, b.y) + t)
                guard edgeBox.intersects(reach) else {
                    // Both ends lie outside the region's box, so outside the region.
                    if inside { return false }
                    continue
                }
                edgeCrossings.removeAll(keepingCapacity: true)
                if pickFromNear {
                    nearby.removeAll(keepingCapacity: true)
                    for s in nearFeature where edge(Int(s), meets: edgeBox) { nearby.append(s) }
                } else {
                    edges(near: edgeBox, into: &nearby)
                }
                for s in nearby {
                    switch crossing(a, b, regionEdge: Int(s)) {
                    case .degenerate: return false
                    case .none: break
                    case .some(let c): edgeCrossings.append(c)
                    }
                }
                if edgeCrossings.count > 1 { edgeCrossings.sort { $0.t < $1.t } }
                var from = a
                for c in edgeCrossings {
                    if inside { total += plane.term(from, c.point) }
                    inside.toggle()
                    from = c.point
                    crossings.append(c)
                }
                if inside { total += plane.term(from, b) }
            }
            // Round the ring, the crossings must leave it where it started.
            if inside != started { return false }
        }
        return true
    }

    /// Adds to `total` the terms of the region's edges inside the feature, walked in runs of
    /// consecutive edges among `nearFeature` and cut at `crossings` (sorted by region edge,
    /// then along it); false when it cannot decide.
    @inline(__always) private func addRegionEdgesInside(
        _ feature: FeatureRings, nearFeature: [Int32], crossings: [Crossing],
        plane: inout PieceTerms, total: inout Double
    ) -> Bool {
        var next = 0  // the first crossing not yet walked
        var previous = -2
        var inside = false
        for s32 in nearFeature {
            let s = Int(s32)
            let a = Coordinate(ax[s], ay[s]), b = Coordinate(bx[s], by[s])
            while next < crossings.count && Int(crossings[next].regionEdge) < s {
                // A crossing on an edge not near the feature's box cannot be.
                return false
            }
            if s != previous + 1 || ax[s] != bx[previous] || ay[s] != by[previous] {
                // A run ended: its last state must be where its last point lies.
                if previous >= 0 && inside != feature.contains(Coordinate(bx[previous], by[previous])) { return false }
                inside = feature.contains(a)
            }
            var from = a
            while next < crossings.count && Int(crossings[next].regionEdge) == s {
                let c = crossings[next]
                if inside { total += plane.term(from, c.point) }
                inside.toggle()
                from = c.point
                next += 1
            }
            if inside { total += plane.term(from, b) }
            previous = s
        }
        if previous >= 0 && inside != feature.contains(Coordinate(bx[previous], by[previous])) { return false }
        return next == crossings.count
    }

    /// The region's edges whose boxes meet `b`, ascending and each once (an edge is filed in
    /// every cell its box overlaps).
    func edges(near b: BoundingBox, into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        guard b.maxX >= box.minX, b.minX <= box.maxX, b.maxY >= box.minY, b.minY <= box.maxY else { return }
        for r in row(b.minY)...row(b.maxY) {
            for c in column(b.minX)...column(b.maxX) {
                let cell = r * columns + c
                for k in Int(cellStart[cell])..<Int(cellStart[cell + 1]) where edge(Int(cellEdges[k]), meets: b) {
                    out.append(cellEdges[k])
                }
            }
        }
        if out.count > 1 {
            out.sort()
            var kept = 1
            for k in 1..<out.count where out[k] != out[kept - 1] { out[kept] = out[k]; kept += 1 }
            out.removeLast(out.count - kept)
        }
    }

    /// Whether region edge `e`'s box meets `b`.
    @inline(__always) func edge(_ e: Int, meets b: BoundingBox) -> Bool {
        max(ax[e], bx[e]) >= b.minX && min(ax[e], bx[e]) <= b.maxX && max(ay[e], by[e]) >= b.minY && min(ay[e], by[e]) <= b.maxY
    }

    enum CrossingTest { case none, degenerate, some(Crossing) }

    /// Whether feature edge a→b crosses region edge `s` at one interior point of both;
    /// degenerate when an end of either comes within `tolerance` of the other's line.
    @inline(__always) func crossing(_ a: Coordinate, _ b: Coordinate, regionEdge s: Int) -> CrossingTest {
        switch Self.crossing(a, b, Coordinate(ax[s], ay[s]), Coordinate(bx[s], by[s]), tolerance: tolerance) {
        case .none: return .none
        case .degenerate: return .degenerate
        case .some(let t, let u, let point): return .some(Crossing(regionEdge: Int32(s), t: t, u: u, point: point))
        }
    }

    enum SegmentCrossing { case none, degenerate, some(t: Double, u: Double, point: Coordinate) }

    /// Whether segment a→b crosses c→d at one interior point of both, `t` along a→b and `u`
    /// along c→d; degenerate when an end of either comes within `tolerance` of the other's
    /// line. The point is computed from a→b alone, so callers that meet the same two edges
    /// from either side pass them in the same order and get the same point.
    @inline(__always) static func crossing(
        _ a: Coordinate, _ b: Coordinate, _ c: Coordinate, _ d: Coordinate, tolerance t: Double
    ) -> SegmentCrossing {
        let cdx = d.x - c.x, cdy = d.y - c.y
        let abx = b.x - a.x, aby = b.y - a.y
        let o1 = cdx * (a.y - c.y) - cdy * (a.x - c.x)
        let o2 = cdx * (b.y - c.y) - cdy * (b.x - c.x)
        let o3 = abx * (c.y - a.y) - aby * (c.x - a.x)
        let o4 = abx * (d.y - a.y) - aby * (d.x - a.x)
        let cdLength = (cdx * cdx + cdy * cdy).squareRoot(), abLength = (abx * abx + aby * aby).squareRoot()
        if abs(o1) <= t * cdLength || abs(o2) <= t * cdLength || abs(o3) <= t * abLength || abs(o4) <= t * abLength {
            return .degenerate
        }
        guard (o1 > 0) != (o2 > 0), (o3 > 0) != (o4 > 0) else { return .none }
        let along = o1 / (o1 - o2)
        return .some(t: along, u: o3 / (o3 - o4), point: Coordinate(a.x + along * abx, a.y + along * aby))
    }
}

/// A feature's rings, oriented with the area on the left (exterior counter-clockwise, holes
/// clockwise, as the region's edges are) and without their closing points, one after another.
struct FeatureRings {
    var points: [Coordinate] = []
    /// Each ring's range in `points`.
    var rings: [Range<Int>] = []

    init(_ polygons: [Polygon]) {
        for polygon in polygons {
            for (r, given) in polygon.rings.enumerated() {
                var n = given.count
                if n > 1 && given[0] == given[n - 1] { n -= 1 }
                guard n >= 3 else { continue }
                let start = points.count
                let counterClockwise = PolygonRegion.signedArea(given[0..<n]) > 0
                if counterClockwise == (r == 0) {
                    points.append(contentsOf: given[0..<n])
                } else {
                    points.append(contentsOf: given[0..<n].reversed())
                }
                rings.append(start..<points.count)
            }
        }
    }

    /// Even–odd rule over every ring, for a point on no edge.
    func contains(_ p: Coordinate) -> Bool {
        var inside = false
        for ring in rings {
            var j = ring.upperBound - 1
            for i in ring {
                let a = points[i], b = points[j]
                if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y) { inside.toggle() }
                j = i
            }
        }
        return inside
    }
}

/// Edge terms of pieces that follow one another (each starts where the last ended), with the
/// last end's projection kept: projecting is most of a term's cost, and each point but the
/// first would otherwise be projected twice.
struct PieceTerms {
    let plane: EqualAreaPlane
    private var last = Coordinate(.nan, .nan)
    private var lastProjected = Coordinate(.nan, .nan)

    init(_ plane: EqualAreaPlane) { self.plane = plane }

    /// Terms on a plane centred on `shared`; nil when it spans more than `spanLimitM` metres
    /// either way (the plane's edges would drift from geodesics, see `EqualAreaPlane`).
    init?(over shared: BoundingBox, spanLimitM: Double) {
        let metresPerDegree = Ellipsoid.cgcs2000.semiMajorAxis * .pi / 180
        let midLatitude = (shared.minY + shared.maxY) / 2 * .pi / 180
        guard (shared.maxX - shared.minX) * metresPerDegree * cos(midLatitude) <= spanLimitM,
            (shared.maxY - shared.minY) * metresPerDegree <= spanLimitM
        else { return nil }
        self.init(EqualAreaPlane(centre: Coordinate((shared.minX + shared.maxX) / 2, (shared.minY + shared.maxY) / 2)))
    }

    mutating func term(_ p: Coordinate, _ q: Coordinate) -> Double {
        let from = p == last ? lastProjected : plane.project(p)
        let to = plane.project(q)
        last = q
        lastProjected = to
        return plane.edgeTerm(from, to)
    }
}
