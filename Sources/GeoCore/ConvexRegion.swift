/// A convex polygon without holes — most project sites are: rectangles and simple plots —
/// against which other polygons can be clipped in microseconds (Sutherland–Hodgman), where a
/// general overlay (GEOS) takes tens of microseconds per feature.
///
/// Clipping a non-convex polygon by a convex one can leave zero-width "bridges" along the
/// clip edges, but the signed area is exact, which is what a conflict check measures.
public struct ConvexRegion: Sendable {
    /// Counter-clockwise, not closed.
    public let vertices: [Coordinate]
    public let box: BoundingBox

    /// nil when the polygon has holes or is not convex.
    public init?(_ polygon: Polygon) {
        guard polygon.rings.count == 1 else { return nil }
        var ring = polygon.rings[0]
        if ring.count > 1 && ring.first == ring.last { ring.removeLast() }
        // Drop repeated and collinear points: they say nothing about the shape.
        var pts: [Coordinate] = []
        for c in ring where pts.last != c { pts.append(c) }
        if pts.count > 1 && pts.first == pts.last { pts.removeLast() }
        var changed = true
        while changed && pts.count >= 3 {
            changed = false
            for i in 0..<pts.count {
                let a = pts[(i + pts.count - 1) % pts.count], b = pts[i], c = pts[(i + 1) % pts.count]
                if Self.cross(a, b, c) == 0 { pts.remove(at: i); changed = true; break }
            }
        }
        guard pts.count >= 3 else { return nil }
        var sign = 0.0
        for i in 0..<pts.count {
            let turn = Self.cross(pts[i], pts[(i + 1) % pts.count], pts[(i + 2) % pts.count])
            if sign == 0 { sign = turn } else if (turn > 0) != (sign > 0) { return nil }
        }
        // A convex polygon turns one way; it must also go round only once.
        var winding = 0.0
        for i in 0..<pts.count {
            let a = pts[i], b = pts[(i + 1) % pts.count]
            winding += a.x * b.y - b.x * a.y
        }
        guard winding != 0, (winding > 0) == (sign > 0) else { return nil }
        vertices = sign > 0 ? pts : pts.reversed()
        var box = BoundingBox(pts[0].x, pts[0].y, pts[0].x, pts[0].y)
        for p in pts { box.extend(p) }
        self.box = box
    }

    @inline(__always) static func cross(_ a: Coordinate, _ b: Coordinate, _ c: Coordinate) -> Double {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }

    /// True when every point lies strictly inside (not on the boundary).
    public func containsStrictly(_ points: [Coordinate]) -> Bool {
        let n = vertices.count
        for p in points {
            if p.x <= box.minX || p.x >= box.maxX || p.y <= box.minY || p.y >= box.maxY { return false }
            for i in 0..<n where Self.cross(vertices[i], vertices[(i + 1) % n], p) <= 0 { return false }
        }
        return true
    }

    /// True when the whole box lies strictly inside: its four corners do, and the region is
    /// convex. Then so does anything in the box, which a check can tell from a feature's stored
    /// box without decoding its geometry.
    public func containsStrictly(_ b: BoundingBox) -> Bool {
        if b.minX <= box.minX || b.maxX >= box.maxX || b.minY <= box.minY || b.maxY >= box.maxY { return false }
        let n = vertices.count
        for i in 0..<n {
            let a = vertices[i], c = vertices[(i + 1) % n]
            if Self.cross(a, c, Coordinate(b.minX, b.minY)) <= 0 || Self.cross(a, c, Coordinate(b.maxX, b.minY)) <= 0
                || Self.cross(a, c, Coordinate(b.maxX, b.maxY)) <= 0 || Self.cross(a, c, Coordinate(b.minX, b.maxY)) <= 0
            {
                return false
            }
        }
        return true
    }

    /// True when no point of the box can be inside: the boxes are apart, or one edge of the
    /// region has the whole box strictly on its outer side (the separating-axis test, with
    /// the box's own axes covered by the first check). Lets a check skip a candidate found
    /// by its box without decoding its geometry.
    public func isDisjoint(from b: BoundingBox) -> Bool {
        if b.maxX < box.minX || b.minX > box.maxX || b.maxY < box.minY || b.minY > box.maxY { return true }
        let corners = [Coordinate(b.minX, b.minY), Coordinate(b.maxX, b.minY), Coordinate(b.maxX, b.maxY), Coordinate(b.minX, b.maxY)]
        let n = vertices.count
        for i in 0..<n {
            let a = vertices[i], c = vertices[(i + 1) % n]
            if corners.allSatisfy({ Self.cross(a, c, $0) < 0 }) { return true }
        }
        return false
    }

    /// The part of a ring inside the region, closed, or empty.
    public func clip(_ ring: [Coordinate]) -> [Coordinate] {
        var output = ring
        if output.count > 1 && output.first == output.last { output.removeLast() }
        let n = vertices.count
        // Two buffers, swapped per edge: copying the output into a new input for every edge
        // would allocate a new array per edge.
        var input: [Coordinate] = []
        input.reserveCapacity(output.count + 2 * n)
        for e in 0..<n {
            guard !output.isEmpty else { break }
            let a = vertices[e], b = vertices[(e + 1) % n]
            swap(&input, &output)
            output.removeAll(keepingCapacity: true)
            var prev = input[input.count - 1]
            var prevSide = Self.cross(a, b, prev)
            for cur in input {
                let curSide = Self.cross(a, b, cur)
                if curSide >= 0 {
                    if prevSide < 0 { output.append(Self.crossing(prev, prevSide, cur, curSide)) }
                    output.append(cur)
                } else if prevSide >= 0 {
                    output.append(Self.crossing(prev, prevSide, cur, curSide))
                }
                prev = cur
                prevSide = curSide
            }
        }
        guard output.count >= 3 else { return [] }
        output.append(output[0])
        return output
    }

    @inline(__always) static func crossing(_ p: Coordinate, _ ps: Double, _ q: Coordinate, _ qs: Double) -> Coordinate {
        let t = ps / (ps - qs)
        return Coordinate(p.x + t * (q.x - p.x), p.y + t * (q.y - p.y))
    }

    /// The part of a polygon inside the region (holes clipped too), or nil if none.
    public func clip(_ polygon: Polygon) -> Polygon? {
        let outer = clip(polygon.exterior)
        guard !outer.isEmpty else { return nil }
        var rings = [outer]
        for h in polygon.holes {
            let c = clip(h)
            if !c.isEmpty { rings.append(c) }
        }
        return Polygon(rings)
    }
}
