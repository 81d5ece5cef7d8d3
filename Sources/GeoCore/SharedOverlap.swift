import Foundation

/// The ellipsoidal area three polygons share (a site, a farmland parcel and a 图斑), summed
/// along the boundary of their common part without building it.
///
/// Why: the land-use answer splits the farmland in a site by the 地类 under it, so it needs
/// area(site ∩ parcel ∩ 图斑) for every parcel and 图斑 that meet on the site's edge.
/// Overlaying the three in GEOS was three quarters of a medium site's check on a city's
/// 2.35 million 图斑. The common part's boundary is each polygon's edges where they lie
/// inside both others, cut where they cross; as for two polygons
/// (`overlapArea(with:box:spanLimitM:)`), the sum of those pieces' terms is its area,
/// whatever the shapes.
///
/// A crossing of two edges is computed with the edges in one order (the first feature's,
/// then the second's, then the site's), so both walks that meet it cut at the same point and
/// the pieces close. What the walks cannot decide they refuse (nil) and the caller overlays:
/// a vertex within `tolerance` of another's edge (a parcel drawn on its 图斑's boundary, as
/// real 永久基本农田 often is), or inside/outside states that disagree.
extension PolygonRegion {
    /// The area in m² the region shares with both `first` and `second` (outlines this region
    /// made, see `outline(_:)`); 0 when the three do not meet; nil when their common box spans
    /// more than `spanLimitM` metres or the sum cannot decide (see above).
    public func overlapArea(with first: PolygonOutline, and second: PolygonOutline, spanLimitM: Double) -> Double? {
        guard let pair = first.box.intersection(second.box), let shared = pair.intersection(box) else { return 0 }
        guard first.decidable, second.decidable else { return nil }
        guard var plane = PieceTerms(over: shared, spanLimitM: spanLimitM) else { return nil }
        var total = 0.0
        guard walk(first, isFirst: true, other: second, plane: &plane, total: &total),
            walk(second, isFirst: false, other: first, plane: &plane, total: &total),
            walkRegion(inside: first, and: second, near: pair, plane: &plane, total: &total)
        else { return nil }
        guard total > -1e-6 else { return nil }
        return max(0, total)
    }

    /// A cut along an edge: where (`at`, 0…1 along it) it crosses into or out of the site
    /// (`site`) or the other polygon.
    private struct Cut {
        let at: Double
        let site: Bool
        let point: Coordinate
    }

    /// `polygons` as an outline to sum with this region and another outline: its crossings
    /// with the region's edges found once, however many features it is summed with (a parcel
    /// meets several 图斑 and a 图斑 several parcels). `inside`: the caller knows it lies
    /// strictly inside the region (from its box), so it has no crossings to look for. nil
    /// when there is no area.
    public func outline(_ polygons: [Polygon], inside: Bool = false) -> PolygonOutline? {
        guard let outline = PolygonOutline.Shape(polygons) else { return nil }
        if inside {
            return PolygonOutline(
                outline, regionCutStart: Array(repeating: 0, count: outline.from.count + 1), regionCuts: [],
                startsInRegion: Array(repeating: true, count: outline.rings.rings.count), decidable: true)
        }
        let t = tolerance
        var nearFeature: [Int32] = []
        edges(near: outline.box.expanded(by: t), into: &nearFeature)
        // As in the two-polygon walk: pick each edge's region edges from a short list.
        let pickFromNear = nearFeature.count <= 48
        var nearby: [Int32] = []
        var edgeCuts: [PolygonOutline.Cut] = []
        var regionCutStart: [Int32] = [0]
        regionCutStart.reserveCapacity(outline.from.count + 1)
        var regionCuts: [PolygonOutline.Cut] = []
        var startsInRegion: [Bool] = []
        var decidable = true
        for ring in outline.rings.rings {
            let start = outline.from[ring.lowerBound]
            var inside = box.expanded(by: t).contains(start) && contains(start)
            startsInRegion.append(inside)
            for k in ring {
                let a = outline.from[k], b = outline.to[k]
                let edgeBox = BoundingBox(min(a.x, b.x) - t, min(a.y, b.y) - t, max(a.x, b.x) + t, max(a.y, b.y) + t)
                edgeCuts.removeAll(keepingCapacity: true)
                if edgeBox.intersects(box) {
                    if pickFromNear {
                        nearby.removeAll(keepingCapacity: true)
                        for s in nearFeature where edge(Int(s), meets: edgeBox) { nearby.append(s) }
                    } else {
                        edges(near: edgeBox, into: &nearby)
                    }
                    for s in nearby {
                        switch crossing(a, b, regionEdge: Int(s)) {
                        case .degenerate: decidable = false
                        case .none: break
                        case .some(let c): edgeCuts.append(.init(at: c.t, point: c.point))
                        }
                    }
                } else if inside {
                    decidable = false  // outside the region's box, so outside it
                }
                if edgeCuts.count > 1 { edgeCuts.sort { $0.at < $1.at } }
                if edgeCuts.count % 2 == 1 { inside.toggle() }
                regionCuts.append(contentsOf: edgeCuts)
                regionCutStart.append(Int32(regionCuts.count))
            }
            // Round the ring, the crossings must leave it where it started.
            if inside != startsInRegion.last! { decidable = false }
        }
        return PolygonOutline(
            outline, regionCutStart: regionCutStart, regionCuts: regionCuts, startsInRegion: startsInRegion, decidable: decidable)
    }

    /// Adds the terms of `feature`'s edges inside both `other` and the region; false when it
    /// cannot decide.
    private func walk(
        _ feature: PolygonOutline, isFirst: Bool, other: PolygonOutline, plane: inout PieceTerms, total: inout Double
    ) -> Bool {
        let t = tolerance
        var cuts: [Cut] = []
        for (r, ring) in feature.rings.rings.enumerated() {
            let start = feature.from[ring.lowerBound]
            var inOther = other.contains(start, tolerance: t)
            var inSite = feature.startsInRegion[r]
            let started = inOther
            for k in ring {
                let a = feature.from[k], b = feature.to[k]
                let edgeBox = BoundingBox(min(a.x, b.x) - t, min(a.y, b.y) - t, max(a.x, b.x) + t, max(a.y, b.y) + t)
                cuts.removeAll(keepingCapacity: true)
                if edgeBox.intersects(other.box) {
                    for j in other.from.indices where other.edge(j, meets: edgeBox) {
                        let crossing =
                            isFirst
                            ? Self.crossing(a, b, other.from[j], other.to[j], tolerance: t)
                            : Self.crossing(other.from[j], other.to[j], a, b, tolerance: t)
                        switch crossing {
                        case .degenerate: return false
                        case .none: break
                        case .some(let s, let u, let point): cuts.append(Cut(at: isFirst ? s : u, site: false, point: point))
                        }
                    }
                } else if inOther {
                    return false  // outside the other's box, so outside it
                }
                for c in feature.regionCuts[Int(feature.regionCutStart[k])..<Int(feature.regionCutStart[k + 1])] {
                    cuts.append(Cut(at: c.at, site: true, point: c.point))
                }
                if cuts.count > 1 { cuts.sort { $0.at < $1.at } }
                var from = a
                for cut in cuts {
                    if inOther && inSite { total += plane.term(from, cut.point) }
                    if cut.site { inSite.toggle() } else { inOther.toggle() }
                    from = cut.point
                }
                if inOther && inSite { total += plane.term(from, b) }
            }
            // Round the ring, the cuts must leave it where it started.
            if inOther != started { return false }
        }
        return true
    }

    /// Adds the terms of the region's edges inside both features, walked in runs of
    /// consecutive edges near the features' common box; false when it cannot decide.
    private func walkRegion(
        inside first: PolygonOutline, and second: PolygonOutline, near pair: BoundingBox,
        plane: inout PieceTerms, total: inout Double
    ) -> Bool {
        let t = tolerance
        var near: [Int32] = []
        edges(near: pair.expanded(by: t), into: &near)
        var cuts: [Cut] = []
        var previous = -2
        var inFirst = false, inSecond = false
        /// A run's last state must be where its last point lies.
        func endsRight(_ e: Int) -> Bool {
            let end = Coordinate(bx[e], by[e])
            return inFirst == first.contains(end, tolerance: t) && inSecond == second.contains(end, tolerance: t)
        }
        for s32 in near {
            let s = Int(s32)
            let a = Coordinate(ax[s], ay[s]), b = Coordinate(bx[s], by[s])
            if s != previous + 1 || ax[s] != bx[previous] || ay[s] != by[previous] {
                if previous >= 0 && !endsRight(previous) { return false }
                inFirst = first.contains(a, tolerance: t)
                inSecond = second.contains(a, tolerance: t)
            }
            let edgeBox = BoundingBox(min(a.x, b.x) - t, min(a.y, b.y) - t, max(a.x, b.x) + t, max(a.y, b.y) + t)
            cuts.removeAll(keepingCapacity: true)
            // `site: true` marks the first feature's cuts here.
            func cut(by feature: PolygonOutline, isFirst: Bool) -> Bool {
                guard edgeBox.intersects(feature.box) else { return true }
                for j in feature.from.indices where feature.edge(j, meets: edgeBox) {
                    switch crossing(feature.from[j], feature.to[j], regionEdge: s) {
                    case .degenerate: return false
                    case .none: break
                    case .some(let c): cuts.append(Cut(at: c.u, site: isFirst, point: c.point))
                    }
                }
                return true
            }
            guard cut(by: first, isFirst: true), cut(by: second, isFirst: false) else { return false }
            if cuts.count > 1 { cuts.sort { $0.at < $1.at } }
            var from = a
            for cut in cuts {
                if inFirst && inSecond { total += plane.term(from, cut.point) }
                if cut.site { inFirst.toggle() } else { inSecond.toggle() }
                from = cut.point
            }
            if inFirst && inSecond { total += plane.term(from, b) }
            previous = s
        }
        return previous < 0 || endsRight(previous)
    }
}

/// A polygon's rings as edges with the area on their left, its box, and its crossings with
/// the region (a site) that made it (`PolygonRegion.outline(_:)`): what
/// `PolygonRegion.overlapArea(with:and:spanLimitM:)` walks. Made once per feature, however
/// many others it is summed against.
///
/// A class: a site's parcels and 图斑 are paired by the hundred, and each pairing of a
/// struct of seven arrays retained and released all seven (a tenth of a medium site's
/// check). `outline(_:inside:)` makes it whole, crossings and all; nothing changes after.
public final class PolygonOutline: Sendable {
    let rings: FeatureRings
    /// Edge `k` runs from `from[k]` to `to[k]`; a ring's edges follow one another.
    let from: [Coordinate]
    let to: [Coordinate]
    public let box: BoundingBox
    /// Against the region that made it: edge `k`'s crossings with the region's edges, in
    /// order along it, are `regionCuts[regionCutStart[k] ..< regionCutStart[k + 1]]`; each
    /// ring starts inside the region or not; false when a crossing could not be decided.
    let regionCutStart: [Int32]
    let regionCuts: [Cut]
    let startsInRegion: [Bool]
    let decidable: Bool

    struct Cut {
        let at: Double
        let point: Coordinate
    }

    /// A polygon's edges and box, before its crossings with a region are known.
    struct Shape {
        let rings: FeatureRings
        let from: [Coordinate]
        let to: [Coordinate]
        let box: BoundingBox

        /// nil when there is no area (no ring with three points).
        init?(_ polygons: [Polygon]) {
            rings = FeatureRings(polygons)
            guard let first = rings.points.first else { return nil }
            from = rings.points
            var to = rings.points
            var box = BoundingBox(first.x, first.y, first.x, first.y)
            for ring in rings.rings {
                for k in ring {
                    to[k] = rings.points[k + 1 == ring.upperBound ? ring.lowerBound : k + 1]
                    box.extend(rings.points[k])
                }
            }
            self.to = to
            self.box = box
        }
    }

    init(_ shape: Shape, regionCutStart: [Int32], regionCuts: [Cut], startsInRegion: [Bool], decidable: Bool) {
        rings = shape.rings
        from = shape.from
        to = shape.to
        box = shape.box
        self.regionCutStart = regionCutStart
        self.regionCuts = regionCuts
        self.startsInRegion = startsInRegion
        self.decidable = decidable
    }

    /// Whether edge `k`'s box meets `b`.
    @inline(__always) func edge(_ k: Int, meets b: BoundingBox) -> Bool {
        let a = from[k], c = to[k]
        return max(a.x, c.x) >= b.minX && min(a.x, c.x) <= b.maxX && max(a.y, c.y) >= b.minY && min(a.y, c.y) <= b.maxY
    }

    /// Even–odd rule, for a point on no edge; outside the box (widened by `tolerance`) at once.
    func contains(_ p: Coordinate, tolerance t: Double) -> Bool {
        box.expanded(by: t).contains(p) && rings.contains(p)
    }
}

extension BoundingBox {
    func expanded(by t: Double) -> BoundingBox { BoundingBox(minX - t, minY - t, maxX + t, maxY + t) }

    func contains(_ p: Coordinate) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
}
