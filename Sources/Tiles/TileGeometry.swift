import GeoCore

/// A vertex on a tile's integer grid (0…extent, y down; the buffer reaches below 0 and past extent).
public struct TilePoint: Hashable, Sendable {
    public var x: Int32
    public var y: Int32
    public init(_ x: Int32, _ y: Int32) { self.x = x; self.y = y }
}

/// A vertex in tile units before snapping.
struct TileVertex {
    var x: Double
    var y: Double
}

/// Geometry in tile space: clipping to the buffered tile, simplification to the tile's
/// resolution, snapping to the integer grid, and the ring rules of MVT 2.1 (exterior rings
/// positive area in tile coordinates, holes negative, no repeated points, no zero-area,
/// self-intersecting or self-touching rings, holes inside their exterior).
enum TileGeometry {
    // MARK: Clipping

    /// Sutherland–Hodgman against the square [lo, hi]². The result of a concave ring can run
    /// along the box edge twice (a zero-width bridge); the validity check finds those and
    /// the polygon is repaired, so the fast path stays fast for the common case.
    static func clipRing(_ ring: [TileVertex], lo: Double, hi: Double) -> [TileVertex] {
        var out = ring
        for edge in 0..<4 {
            guard let last = out.last else { return [] }
            var next: [TileVertex] = []
            next.reserveCapacity(out.count + 4)
            var prev = last
            var prevIn = inside(prev, edge, lo, hi)
            for cur in out {
                let curIn = inside(cur, edge, lo, hi)
                if curIn {
                    if !prevIn { next.append(intersection(prev, cur, edge, lo, hi)) }
                    next.append(cur)
                } else if prevIn {
                    next.append(intersection(prev, cur, edge, lo, hi))
                }
                prev = cur
                prevIn = curIn
            }
            out = next
        }
        return out
    }

    @inline(__always) static func inside(_ p: TileVertex, _ edge: Int, _ lo: Double, _ hi: Double) -> Bool {
        switch edge {
        case 0: return p.x >= lo
        case 1: return p.x <= hi
        case 2: return p.y >= lo
        default: return p.y <= hi
        }
    }

    @inline(__always) static func intersection(_ a: TileVertex, _ b: TileVertex, _ edge: Int, _ lo: Double, _ hi: Double) -> TileVertex {
        switch edge {
        case 0, 1:
            let x = edge == 0 ? lo : hi
            let t = (x - a.x) / (b.x - a.x)
            return TileVertex(x: x, y: a.y + t * (b.y - a.y))
        default:
            let y = edge == 2 ? lo : hi
            let t = (y - a.y) / (b.y - a.y)
            return TileVertex(x: a.x + t * (b.x - a.x), y: y)
        }
    }

    /// Liang–Barsky per segment: the parts of a line inside the square [lo, hi]².
    static func clipLine(_ line: [TileVertex], lo: Double, hi: Double) -> [[TileVertex]] {
        var parts: [[TileVertex]] = []
        var current: [TileVertex] = []
        for i in 0..<(line.count - 1) {
            let a = line[i], b = line[i + 1]
            var t0 = 0.0, t1 = 1.0
            let dx = b.x - a.x, dy = b.y - a.y
            var visible = true
            for (p, q) in [(-dx, a.x - lo), (dx, hi - a.x), (-dy, a.y - lo), (dy, hi - a.y)] {
                if p == 0 {
                    if q < 0 { visible = false; break }
                } else {
                    let r = q / p
                    if p < 0 {
                        if r > t1 { visible = false; break }; if r > t0 { t0 = r }
                    } else {
                        if r < t0 { visible = false; break }; if r < t1 { t1 = r }
                    }
                }
            }
            if !visible {
                if current.count >= 2 { parts.append(current) }
                current = []
                continue
            }
            let start = TileVertex(x: a.x + t0 * dx, y: a.y + t0 * dy)
            let end = TileVertex(x: a.x + t1 * dx, y: a.y + t1 * dy)
            if current.isEmpty || t0 > 0 {
                if current.count >= 2 { parts.append(current) }
                current = [start]
            }
            current.append(end)
            if t1 < 1 {
                parts.append(current)
                current = []
            }
        }
        if current.count >= 2 { parts.append(current) }
        return parts
    }

    // MARK: Simplification

    /// Douglas–Peucker on an open polyline (first and last always kept).
    static func simplify(_ pts: [TileVertex], tolerance: Double) -> [TileVertex] {
        guard pts.count > 2, tolerance > 0 else { return pts }
        return withFlags(pts.count) { keep in
            keep[0] = true
            keep[pts.count - 1] = true
            pts.withUnsafeBufferPointer { p in mark(p, from: 0, to: p.count - 1, keep: keep, tol2: tolerance * tolerance) }
            return kept(pts, keep)
        }
    }

    /// Scratch flags, all false, on the stack where they fit: the simplifiers run for every
    /// outline of every tile, and a heap array of flags and one of spans each time were
    /// most of the allocations of a dense tile.
    @inline(__always) private static func withFlags<T>(_ n: Int, _ body: (UnsafeMutableBufferPointer<Bool>) -> T) -> T {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: n) { keep in
            keep.initialize(repeating: false)
            return body(keep)
        }
    }

    /// Douglas–Peucker on an open ring (first point not repeated): split at the point
    /// farthest from the first, so both halves keep the ring's extent. One pass over one
    /// array of flags, rather than halves copied out and joined: this runs for every
    /// outline of every tile.
    static func simplifyRing(_ ring: [TileVertex], tolerance: Double) -> [TileVertex] {
        guard ring.count > 4, tolerance > 0 else { return ring }
        let a = ring[0]
        var far = 0, best = -1.0
        for (i, p) in ring.enumerated() {
            let d = (p.x - a.x) * (p.x - a.x) + (p.y - a.y) * (p.y - a.y)
            if d > best { best = d; far = i }
        }
        guard far > 0 else { return [] }
        return withFlags(ring.count) { keep in
            keep[0] = true
            keep[far] = true
            let tol2 = tolerance * tolerance
            ring.withUnsafeBufferPointer { p in
                mark(p, from: 0, to: far, keep: keep, tol2: tol2)
                // Index `count` stands for the first point again: the ring's closing edge.
                mark(p, from: far, to: p.count, keep: keep, tol2: tol2)
            }
            return kept(ring, keep)
        }
    }

    /// Marks the points Douglas–Peucker keeps strictly between `from` and `to` (an index
    /// equal to the count wraps to the first point).
    private static func mark(_ p: UnsafeBufferPointer<TileVertex>, from: Int, to: Int, keep: UnsafeMutableBufferPointer<Bool>, tol2: Double)
    {
        @inline(__always) func at(_ i: Int) -> TileVertex { p[i == p.count ? 0 : i] }
        // The spans still to look at: each split adds one net, and a span splits only while
        // it has a point inside, so there are never more than the points.
        withUnsafeTemporaryAllocation(of: (Int, Int).self, capacity: max(2, to - from + 1)) { stack in
            stack[0] = (from, to)
            var top = 1
            while top > 0 {
                top -= 1
                let (first, last) = stack[top]
                guard last > first + 1 else { continue }
                let a = at(first), b = at(last)
                let dx = b.x - a.x, dy = b.y - a.y
                let len2 = dx * dx + dy * dy
                var worst = -1.0, index = first
                for i in (first + 1)..<last {
                    let q = p[i]
                    var d: Double
                    if len2 == 0 {
                        d = (q.x - a.x) * (q.x - a.x) + (q.y - a.y) * (q.y - a.y)
                    } else {
                        let t = ((q.x - a.x) * dx + (q.y - a.y) * dy) / len2
                        if t <= 0 {
                            d = (q.x - a.x) * (q.x - a.x) + (q.y - a.y) * (q.y - a.y)
                        } else if t >= 1 {
                            d = (q.x - b.x) * (q.x - b.x) + (q.y - b.y) * (q.y - b.y)
                        } else {
                            let c = dx * (q.y - a.y) - dy * (q.x - a.x); d = c * c / len2
                        }
                    }
                    if d > worst { worst = d; index = i }
                }
                if worst > tol2 {
                    keep[index] = true
                    stack[top] = (first, index)
                    stack[top + 1] = (index, last)
                    top += 2
                }
            }
        }
    }

    private static func kept(_ pts: [TileVertex], _ keep: UnsafeMutableBufferPointer<Bool>) -> [TileVertex] {
        var out: [TileVertex] = []
        out.reserveCapacity(pts.count)
        for i in pts.indices where keep[i] { out.append(pts[i]) }
        return out
    }

    // MARK: Snapping and ring hygiene

    @inline(__always) static func snap(_ v: TileVertex) -> TilePoint {
        TilePoint(Int32(v.x.rounded()), Int32(v.y.rounded()))
    }

    @inline(__always) static func cross(_ a: TilePoint, _ b: TilePoint, _ c: TilePoint) -> Int64 {
        (Int64(b.x) - Int64(a.x)) * (Int64(c.y) - Int64(a.y)) - (Int64(b.y) - Int64(a.y)) * (Int64(c.x) - Int64(a.x))
    }

    /// Snaps an open ring and removes what snapping leaves behind: repeated points, spikes
    /// and collinear runs (removing a collinear middle point never changes the area).
    /// Fewer than three points left means the ring collapsed: the result is empty.
    static func snapRing(_ ring: [TileVertex]) -> [TilePoint] {
        var out: [TilePoint] = []
        out.reserveCapacity(ring.count)
        for v in ring {
            let p = snap(v)
            if let last = out.last, last == p { continue }
            while out.count >= 2 && cross(out[out.count - 2], out[out.count - 1], p) == 0 { out.removeLast() }
            if let last = out.last, last == p { continue }
            out.append(p)
        }
        // The seam between the last point and the first.
        while out.count >= 3 {
            let n = out.count
            if out[n - 1] == out[0] { out.removeLast(); continue }
            if cross(out[n - 2], out[n - 1], out[0]) == 0 { out.removeLast(); continue }
            if cross(out[n - 1], out[0], out[1]) == 0 { out.removeFirst(); continue }
            break
        }
        return out.count >= 3 ? out : []
    }

    /// Twice the signed area by the surveyor's formula; positive is clockwise on screen (y down).
    static func twiceArea(_ ring: [TilePoint]) -> Int64 {
        var s: Int64 = 0
        var prev = ring[ring.count - 1]
        for p in ring {
            s += Int64(prev.x) * Int64(p.y) - Int64(p.x) * Int64(prev.y)
            prev = p
        }
        return s
    }

    static func twiceArea(_ ring: [TileVertex]) -> Double {
        guard var prev = ring.last else { return 0 }
        var s = 0.0
        for p in ring {
            s += prev.x * p.y - p.x * prev.y
            prev = p
        }
        return s
    }

    // MARK: Validity

    /// Rings of one polygon (exterior first) that break the MVT rules: a ring that crosses or
    /// touches itself or another ring, or a hole outside its exterior. Exact, on integers.
    static func invalidRings(_ rings: [[TilePoint]]) -> Set<Int> {
        var bad = Set<Int>()
        struct Segment {
            var minX: Int32, maxX: Int32, minY: Int32, maxY: Int32
            var a: TilePoint, b: TilePoint
            var ring: Int32, index: Int32
        }
        // On the stack where they fit: every polygon of every tile is checked.
        let count = rings.reduce(0) { $0 + $1.count }
        withUnsafeTemporaryAllocation(of: Segment.self, capacity: count) { buffer in
            var segments = buffer
            var k = 0
            for (r, ring) in rings.enumerated() {
                for i in ring.indices {
                    let a = ring[i], b = ring[i + 1 == ring.count ? 0 : i + 1]
                    segments.initializeElement(
                        at: k,
                        to: Segment(
                            minX: min(a.x, b.x), maxX: max(a.x, b.x), minY: min(a.y, b.y), maxY: max(a.y, b.y),
                            a: a, b: b, ring: Int32(r), index: Int32(i)))
                    k += 1
                }
            }
            segments.sort { $0.minX < $1.minX }
            for i in segments.indices {
                let s = segments[i]
                var j = i + 1
                while j < segments.count && segments[j].minX <= s.maxX {
                    let t = segments[j]
                    j += 1
                    if t.maxY < s.minY || s.maxY < t.minY { continue }
                    if s.ring == t.ring {
                        let n = Int32(rings[Int(s.ring)].count)
                        let d = abs(s.index - t.index)
                        // Neighbours share their common vertex; collinear overlaps were removed by snapRing.
                        if d == 1 || d == n - 1 { continue }
                    }
                    if segmentsMeet(s.a, s.b, t.a, t.b) {
                        if s.ring == t.ring { bad.insert(Int(s.ring)) } else { bad.insert(Int(max(s.ring, t.ring))) }
                    }
                }
            }
            // Segment is plain data: nothing to deinitialize.
        }
        guard rings.count > 1 else { return bad }
        for h in 1..<rings.count where !bad.contains(h) {
            // No ring touches another now, so any vertex decides inside or outside.
            if !pointInRing(rings[h][0], rings[0]) { bad.insert(h); continue }
            if rings.count <= 64 {
                for other in 1..<rings.count where other != h && !bad.contains(other) && pointInRing(rings[h][0], rings[other]) {
                    bad.insert(h)
                    break
                }
            }
        }
        return bad
    }

    /// Polygons (largest first) that neither cross, touch nor contain one another: each is
    /// kept if none of its rings meets a kept one's and neither lies inside the other.
    static func disjoint(_ polygons: [[[TilePoint]]]) -> [[[TilePoint]]] {
        let order = polygons.indices.sorted { twiceArea(polygons[$0][0]) > twiceArea(polygons[$1][0]) }
        var kept: [[[TilePoint]]] = []
        for i in order {
            let p = polygons[i]
            let clash = kept.contains { k in
                k.contains { a in p.contains { b in ringsMeet(a, b) } } || inside(p[0][0], k) || inside(k[0][0], p)
            }
            if !clash { kept.append(p) }
        }
        // Back in the original order, for stable output.
        return polygons.filter { p in kept.contains { $0 == p } }
    }

    /// In the polygon's exterior and in none of its holes (the point on no ring).
    static func inside(_ point: TilePoint, _ polygon: [[TilePoint]]) -> Bool {
        pointInRing(point, polygon[0]) && !polygon.dropFirst().contains { pointInRing(point, $0) }
    }

    /// True if any segment of ring a shares a point with any segment of ring b.
    static func ringsMeet(_ a: [TilePoint], _ b: [TilePoint]) -> Bool {
        var minX = Int32.max, maxX = Int32.min, minY = Int32.max, maxY = Int32.min
        for p in b { minX = min(minX, p.x); maxX = max(maxX, p.x); minY = min(minY, p.y); maxY = max(maxY, p.y) }
        for i in a.indices {
            let p = a[i], q = a[i + 1 == a.count ? 0 : i + 1]
            if max(p.x, q.x) < minX || min(p.x, q.x) > maxX || max(p.y, q.y) < minY || min(p.y, q.y) > maxY { continue }
            for j in b.indices where segmentsMeet(p, q, b[j], b[j + 1 == b.count ? 0 : j + 1]) { return true }
        }
        return false
    }

    /// True if the closed segments share any point.
    @inline(__always) static func segmentsMeet(_ p: TilePoint, _ q: TilePoint, _ r: TilePoint, _ s: TilePoint) -> Bool {
        let d1 = cross(p, q, r), d2 = cross(p, q, s), d3 = cross(r, s, p), d4 = cross(r, s, q)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        if d1 == 0 && onSegment(p, q, r) { return true }
        if d2 == 0 && onSegment(p, q, s) { return true }
        if d3 == 0 && onSegment(r, s, p) { return true }
        if d4 == 0 && onSegment(r, s, q) { return true }
        return false
    }

    /// c is collinear with a–b: is it within the segment's box?
    @inline(__always) static func onSegment(_ a: TilePoint, _ b: TilePoint, _ c: TilePoint) -> Bool {
        min(a.x, b.x) <= c.x && c.x <= max(a.x, b.x) && min(a.y, b.y) <= c.y && c.y <= max(a.y, b.y)
    }

    /// Even–odd ray test; the point is assumed not to lie on the ring.
    static func pointInRing(_ p: TilePoint, _ ring: [TilePoint]) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let a = ring[i], b = ring[j]
            if (a.y > p.y) != (b.y > p.y) {
                // p.x < a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y), without division.
                let lhs = (Int64(p.x) - Int64(a.x)) * (Int64(b.y) - Int64(a.y))
                let rhs = (Int64(p.y) - Int64(a.y)) * (Int64(b.x) - Int64(a.x))
                if (b.y > a.y) ? lhs < rhs : lhs > rhs { inside.toggle() }
            }
            j = i
        }
        return inside
    }
}
