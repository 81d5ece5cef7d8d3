/// A cheap test that a single-ring polygon is certainly valid, so the common case can skip
/// GEOS's full validity check (which builds a topology graph for every feature).
///
/// It answers `true` only when every pair of non-adjacent edges is strictly disjoint,
/// adjacent edges do not fold back on each other, and the ring encloses area. Anything
/// doubtful answers `false`, and the caller asks GEOS, which has the final word.
public enum RingValidity {
    public static func isCertainlySimple(_ ring: [Coordinate], maxVertices: Int = 64) -> Bool {
        let n = ring.count - 1  // edges
        guard n >= 3, n <= maxVertices, ring[0] == ring[n] else { return false }
        for i in 0..<n where ring[i] == ring[i + 1] { return false }  // let GEOS judge repeats
        var twiceArea = 0.0
        for i in 0..<n { twiceArea += ring[i].x * ring[i + 1].y - ring[i + 1].x * ring[i].y }
        guard twiceArea != 0 else { return false }
        for i in 0..<n {
            let a = ring[i], b = ring[i + 1]
            // Adjacent edge: must not double back along the same line.
            let c = ring[(i + 2) % n == 0 ? n : (i + 2) % n]
            if cross(a, b, c) == 0 && dot(b, a, c) > 0 { return false }
            for j in stride(from: i + 2, to: n, by: 1) {
                if i == 0 && j == n - 1 { continue }  // the last edge is adjacent to the first
                if segmentsTouch(a, b, ring[j], ring[j + 1]) { return false }
            }
        }
        return true
    }

    /// Orientation of c relative to a→b (exact sign for the inputs we see; ties count as touching).
    @inline(__always) static func cross(_ a: Coordinate, _ b: Coordinate, _ c: Coordinate) -> Double {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }

    /// Positive when a and c lie on the same side of b (the path a→b→c turns back).
    @inline(__always) static func dot(_ b: Coordinate, _ a: Coordinate, _ c: Coordinate) -> Double {
        (a.x - b.x) * (c.x - b.x) + (a.y - b.y) * (c.y - b.y)
    }

    /// True if the closed segments share any point, or are too close to call.
    @inline(__always) static func segmentsTouch(_ p: Coordinate, _ q: Coordinate, _ r: Coordinate, _ s: Coordinate) -> Bool {
        // Disjoint boxes: certainly apart.
        if max(p.x, q.x) < min(r.x, s.x) || max(r.x, s.x) < min(p.x, q.x) || max(p.y, q.y) < min(r.y, s.y) || max(r.y, s.y) < min(p.y, q.y)
        {
            return false
        }
        let d1 = cross(p, q, r), d2 = cross(p, q, s), d3 = cross(r, s, p), d4 = cross(r, s, q)
        // Strictly on opposite sides both ways: they cross. Same side either way: apart.
        if (d1 > 0 && d2 > 0) || (d1 < 0 && d2 < 0) || (d3 > 0 && d4 > 0) || (d3 < 0 && d4 < 0) { return false }
        return true  // crossing, touching or collinear: not certainly simple
    }
}
