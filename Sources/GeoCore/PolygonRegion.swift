/// Any polygonal area (concave, with holes, in several parts: a road corridor, an industrial
/// park around a village) with its edges filed in a grid, so that a box can be placed against
/// it in a few steps: wholly outside, wholly inside, or on its boundary.
///
/// A conflict check finds candidate features by their stored boxes. For a 20 km corridor the
/// site's own box holds some thirty times more parcels than the corridor touches, and most
/// parcels a large site touches lie wholly inside it; telling both from the box alone spares
/// decoding them and testing them in GEOS. Only boxes on the boundary need the geometry.
///
/// Coordinates are taken as planar, as GEOS takes them. A box that comes within `tolerance`
/// of an edge counts as on the boundary, so rounding can only send a box to the exact test,
/// never place it wrongly.
public struct PolygonRegion: Sendable {
    public enum Placement: Sendable { case outside, inside, boundary }

    public let box: BoundingBox
    let grid: Grid
    /// The edges, as segment end points.
    let ax: [Double], ay: [Double], bx: [Double], by: [Double]
    /// Cell `c`'s edges are `cellEdges[cellStart[c] ..< cellStart[c + 1]]`; cells are numbered
    /// row by row. An edge is filed in every cell its box overlaps.
    let cellStart: [Int32]
    let cellEdges: [Int32]
    let tolerance: Double

    /// nil when there is no area (no ring with three points).
    public init?(_ polygons: [Polygon]) {
        var ax: [Double] = [], ay: [Double] = [], bx: [Double] = [], by: [Double] = []
        let points = polygons.reduce(0) { $0 + $1.rings.reduce(0) { $0 + $1.count } }
        ax.reserveCapacity(points); ay.reserveCapacity(points); bx.reserveCapacity(points); by.reserveCapacity(points)
        var box: BoundingBox? = nil
        for polygon in polygons {
            for (r, given) in polygon.rings.enumerated() where given.count >= 3 {
                // Oriented with the area on the left (exterior counter-clockwise, holes
                // clockwise): what `overlapArea` sums along; placements and covers ignore it.
                let ring = (Self.signedArea(given[...]) > 0) == (r == 0) ? given : given.reversed()
                for i in 0..<ring.count {
                    let a = ring[i], b = ring[(i + 1) % ring.count]
                    if a == b { continue }
                    ax.append(a.x); ay.append(a.y); bx.append(b.x); by.append(b.y)
                    if box == nil { box = BoundingBox(a.x, a.y, a.x, a.y) } else { box!.extend(a) }
                }
            }
        }
        guard let box, ax.count >= 3, box.maxX > box.minX, box.maxY > box.minY else { return nil }
        // About one cell per edge, shaped like the box: a box query then looks at a few edges.
        let width = box.maxX - box.minX, height = box.maxY - box.minY
        let n = Double(ax.count)
        let columns = max(1, min(512, Int((n * width / height).squareRoot().rounded(.up))))
        let rows = max(1, min(512, Int((n * height / width).squareRoot().rounded(.up))))
        let grid = Grid(box: box, columns: columns, rows: rows)
        var counts = [Int32](repeating: 0, count: columns * rows + 1)
        func cells(_ e: Int, _ visit: (Int) -> Void) {
            let c0 = grid.column(min(ax[e], bx[e])), c1 = grid.column(max(ax[e], bx[e]))
            let r0 = grid.row(min(ay[e], by[e])), r1 = grid.row(max(ay[e], by[e]))
            for r in r0...r1 { for c in c0...c1 { visit(r * columns + c) } }
        }
        for e in ax.indices { cells(e) { counts[$0 + 1] += 1 } }
        for c in 0..<columns * rows { counts[c + 1] += counts[c] }
        var next = counts
        var filed = [Int32](repeating: 0, count: Int(counts[columns * rows]))
        for e in ax.indices {
            cells(e) { c in
                filed[Int(next[c])] = Int32(e); next[c] += 1
            }
        }
        self.box = box
        self.grid = grid
        self.ax = ax; self.ay = ay; self.bx = bx; self.by = by
        cellStart = counts
        cellEdges = filed
        tolerance = 1e-9 * max(1, abs(box.minX), abs(box.maxX), abs(box.minY), abs(box.maxY))
    }

    /// The cells: `columns` × `rows` over the box.
    struct Grid: Sendable {
        let box: BoundingBox
        let columns: Int
        let rows: Int
        let cellWidth: Double
        let cellHeight: Double

        init(box: BoundingBox, columns: Int, rows: Int) {
            self.box = box; self.columns = columns; self.rows = rows
            cellWidth = (box.maxX - box.minX) / Double(columns)
            cellHeight = (box.maxY - box.minY) / Double(rows)
        }

        // Clamped before converting, so truncation is the floor; inlined: a site's grid is
        // built for every check, and these are called for every edge it files.
        @inline(__always) func column(_ x: Double) -> Int { Int(min(max((x - box.minX) / cellWidth, 0), Double(columns - 1))) }
        @inline(__always) func row(_ y: Double) -> Int { Int(min(max((y - box.minY) / cellHeight, 0), Double(rows - 1))) }
    }

    var columns: Int { grid.columns }
    @inline(__always) func column(_ x: Double) -> Int { grid.column(x) }
    @inline(__always) func row(_ y: Double) -> Int { grid.row(y) }

    /// Twice the signed planar area of a ring (counter-clockwise positive).
    static func signedArea(_ ring: ArraySlice<Coordinate>) -> Double {
        var twice = 0.0
        let start = ring.startIndex, n = ring.count
        for k in 0..<n {
            let a = ring[start + k], b = ring[start + (k + 1) % n]
            twice += a.x * b.y - b.x * a.y
        }
        return twice
    }

    /// Where the closed box `b` lies: outside when no point of it is in the area, inside when
    /// every point of it is strictly inside, else on the boundary.
    public func placement(of b: BoundingBox) -> Placement {
        let t = tolerance
        let e = BoundingBox(b.minX - t, b.minY - t, b.maxX + t, b.maxY + t)
        if e.maxX < box.minX || e.minX > box.maxX || e.maxY < box.minY || e.minY > box.maxY { return .outside }
        for r in row(e.minY)...row(e.maxY) {
            for c in column(e.minX)...column(e.maxX) {
                let cell = r * columns + c
                for k in Int(cellStart[cell])..<Int(cellStart[cell + 1]) where touches(Int(cellEdges[k]), e) {
                    return .boundary
                }
            }
        }
        // No edge comes near the box, so all of it is on one side: that of its centre.
        return contains(Coordinate((b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2)) ? .inside : .outside
    }

    /// Boxes that together cover the area: the runs of grid cells, row by row, that hold an
    /// edge or lie inside. Searching an index with these instead of the area's own box finds
    /// what a long thin or ragged area can touch without what lies in its box's empty corners;
    /// nil when they would spare less than half of the box.
    public func cover() -> [BoundingBox]? {
        var boxes: [BoundingBox] = []
        var covered = 0
        for r in 0..<grid.rows {
            var start: Int? = nil
            for c in 0...grid.columns {
                let occupied = c < grid.columns && occupied(r * grid.columns + c, column: c, row: r)
                if occupied, start == nil { start = c }
                if !occupied, let s = start {
                    boxes.append(
                        BoundingBox(
                            box.minX + Double(s) * grid.cellWidth, box.minY + Double(r) * grid.cellHeight,
                            c == grid.columns ? box.maxX : box.minX + Double(c) * grid.cellWidth,
                            r == grid.rows - 1 ? box.maxY : box.minY + Double(r + 1) * grid.cellHeight))
                    covered += c - s
                    start = nil
                }
            }
        }
        return covered * 2 < grid.columns * grid.rows ? boxes : nil
    }

    private func occupied(_ cell: Int, column c: Int, row r: Int) -> Bool {
        if cellStart[cell] != cellStart[cell + 1] { return true }
        // A cell no edge enters lies wholly inside or wholly outside: as its centre does.
        return contains(Coordinate(box.minX + (Double(c) + 0.5) * grid.cellWidth, box.minY + (Double(r) + 0.5) * grid.cellHeight))
    }

    /// Whether edge `i` meets the closed box: their boxes overlap and the box's corners are
    /// not all strictly on one side of the edge's line (the separating-axis test).
    private func touches(_ i: Int, _ e: BoundingBox) -> Bool {
        let x0 = ax[i], y0 = ay[i], x1 = bx[i], y1 = by[i]
        if max(x0, x1) < e.minX || min(x0, x1) > e.maxX || max(y0, y1) < e.minY || min(y0, y1) > e.maxY { return false }
        let dx = x1 - x0, dy = y1 - y0
        let s1 = dx * (e.minY - y0) - dy * (e.minX - x0)
        let s2 = dx * (e.minY - y0) - dy * (e.maxX - x0)
        let s3 = dx * (e.maxY - y0) - dy * (e.maxX - x0)
        let s4 = dx * (e.maxY - y0) - dy * (e.minX - x0)
        return !((s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0) || (s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0))
    }

    /// Even–odd rule for a point on no edge: the edges crossing the ray from `p` towards +x.
    /// Each such edge is counted in the one cell of `p`'s row that holds its crossing, so an
    /// edge filed in several cells is counted once.
    func contains(_ p: Coordinate) -> Bool {
        if p.x < box.minX || p.x > box.maxX || p.y < box.minY || p.y > box.maxY { return false }
        let r = row(p.y)
        var inside = false
        for c in column(p.x)..<columns {
            let cell = r * columns + c
            for k in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
                let i = Int(cellEdges[k])
                let y0 = ay[i], y1 = by[i]
                guard (y0 > p.y) != (y1 > p.y) else { continue }
                let x = ax[i] + (p.y - y0) * (bx[i] - ax[i]) / (y1 - y0)
                if x > p.x && column(x) == c { inside.toggle() }
            }
        }
        return inside
    }
}
