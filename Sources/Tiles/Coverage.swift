/// Where polygons too small to draw at a zoom go: their area is kept, not their outline.
///
/// The tile is divided into square cells (`cellSize` tile units). Every small polygon adds
/// its area to the cell holding its centre, and each cell is drawn as one axis-aligned square
/// of the same total area, centred on the area-weighted centre of what fell into it and kept
/// inside the cell. Squares of different cells never overlap, so the area a renderer fills is
/// the sum of the squares: the area of the data, less only the rounding of each side to the
/// integer grid, and that rounding is carried from cell to cell (error diffusion), so the
/// total stays within one cell's rounding of the truth. This is tippecanoe's "tiny polygon
/// reduction" made deterministic and exact in area. At low zooms a dense layer becomes a
/// screen of dots whose darkness is the share of the ground it covers.
struct CoverageGrid {
    let extent: Int
    private(set) var cellSize: Int
    /// (x, y, area, count, code) of every contribution, so the grid can be coarsened.
    private(set) var items: [(x: Double, y: Double, area: Double, count: Int, code: Int32)] = []
    /// A land-use layer's 地类编码 by the id its contributions carry; nil for other layers,
    /// whose coverage is one feature of squares with no class (see `ClassCoverage`).
    var codeNames: [String]?
    private var codeIds: [String: Int32] = [:]
    private(set) var totalArea = 0.0
    private(set) var totalCount = 0
    /// The side of the largest contribution's square: cells must be larger, or its area
    /// would not fit.
    private var largestSide = 0.0

    init(extent: Int, cellSize: Int, codeNames: [String]? = nil) {
        self.extent = extent
        self.cellSize = cellSize
        self.codeNames = codeNames
    }

    /// The id of a 地类编码 read from a row (a layer not held in memory, whose codes are not
    /// interned already); -1 for no value or one that is not text.
    mutating func codeId(of value: MVTValue?) -> Int32 {
        guard case .string(let code)? = value else { return -1 }
        if let id = codeIds[code] { return id }
        if codeNames == nil { codeNames = [] }
        let id = Int32(codeNames!.count)
        codeNames!.append(code)
        codeIds[code] = id
        return id
    }

    var isEmpty: Bool { items.isEmpty }

    /// A contribution of `area` tile units² centred at (x, y); ignored if the centre lies
    /// outside the tile (the neighbouring tile counts it), so nothing is counted twice.
    ///
    /// Given the footprint's box (`width` × `height` about the centre), a polygon that the
    /// tile's edge cuts counts here for the share of its box inside the tile, at the centre of
    /// that share, and the neighbouring tile counts the rest: each tile then holds the area
    /// the data covers within it. (By centre alone, a field of parcels a few units across that
    /// runs over the edge lost a strip half a parcel wide on one side: 7–10% of a z10 tile's.)
    mutating func add(x: Double, y: Double, area: Double, count: Int = 1, code: Int32 = -1, width: Double, height: Double) {
        let e = Double(extent)
        let x0 = max(0, x - width / 2), x1 = min(e, x + width / 2), y0 = max(0, y - height / 2), y1 = min(e, y + height / 2)
        guard width > 0, height > 0 else { return add(x: x, y: y, area: area, count: count, code: code) }
        // Wholly in the next tile: that tile counts it.
        guard area > 0, x1 > x0, y1 > y0 else { return }
        let share = (x1 - x0) * (y1 - y0) / (width * height)
        if share >= 1 { return add(x: x, y: y, area: area, count: count, code: code) }
        // Counted (`om_merged`) once, by the tile its centre is in; its area wherever its box
        // lies, at the middle of the part inside, kept just inside the edge.
        let counted = x >= 0 && y >= 0 && x < e && y < e ? count : 0
        let part = area * share
        items.append((min((x0 + x1) / 2, e.nextDown), min((y0 + y1) / 2, e.nextDown), part, counted, code))
        largestSide = max(largestSide, part.squareRoot())
        totalArea += part
        totalCount += counted
    }

    mutating func add(x: Double, y: Double, area: Double, count: Int = 1, code: Int32 = -1) {
        let e = Double(extent)
        guard area > 0, x >= 0, y >= 0, x < e, y < e else { return }
        items.append((x, y, area, count, code))
        largestSide = max(largestSide, area.squareRoot())
        totalArea += area
        totalCount += count
    }

    mutating func coarsen() { cellSize *= 2 }

    /// Makes cells at least `size` units (a power of two times the configured size).
    mutating func ensureCell(atLeast size: Int) {
        while cellSize < size && cellSize < extent { cellSize *= 2 }
    }

    /// Which items to turn into coverage so the rest costs at most `budget`: whole cells at a
    /// time, the costliest first, so a cell is either all outlines or one square, and squares
    /// do not land on outlines kept beside them. Deterministic: ties go by cell order.
    static func shed(_ items: [(x: Double, y: Double, cost: Double)], cellSize: Int, extent: Int, budget: Double) -> [Bool] {
        let n = max(1, extent / cellSize)
        var cost: [Int: Double] = [:]
        var total = 0.0
        func cell(_ x: Double, _ y: Double) -> Int {
            let i = min(n - 1, max(0, Int(x / Double(cellSize)))), j = min(n - 1, max(0, Int(y / Double(cellSize))))
            return j * n + i
        }
        for it in items {
            cost[cell(it.x, it.y), default: 0] += it.cost
            total += it.cost
        }
        var coarse = Set<Int>()
        for (c, v) in cost.sorted(by: { ($0.value, -$0.key) > ($1.value, -$1.key) }) {
            guard total > budget else { break }
            coarse.insert(c)
            total -= v
        }
        return items.map { coarse.contains(cell($0.x, $0.y)) }
    }

    /// The cell size in use: the configured one, doubled until the largest contribution
    /// takes at most half a cell's side (parcels shed from a crowded tile at high zoom).
    var effectiveCellSize: Int {
        var c = cellSize
        while Double(c) < 2 * largestSide && c < extent { c *= 2 }
        return c
    }

    /// The squares, as open rings with positive area in tile coordinates.
    func squares() -> [[TilePoint]] {
        guard !items.isEmpty else { return [] }
        let cellSize = effectiveCellSize
        let n = max(1, extent / cellSize)
        let cell = Double(cellSize)
        var area = [Double](repeating: 0, count: n * n)
        var sx = [Double](repeating: 0, count: n * n)
        var sy = [Double](repeating: 0, count: n * n)
        for it in items {
            let i = min(n - 1, Int(it.x / cell)), j = min(n - 1, Int(it.y / cell))
            let k = j * n + i
            area[k] += it.area
            sx[k] += it.x * it.area
            sy[k] += it.y * it.area
        }
        var out: [[TilePoint]] = []
        var carry = 0.0
        for j in 0..<n {
            for i in 0..<n {
                let k = j * n + i
                guard area[k] > 0 else { continue }
                let want = area[k] + carry
                guard want > 0 else { carry = want; continue }
                var side = Int(want.squareRoot().rounded())
                // At most cell − 1, so squares of neighbouring cells never touch.
                side = max(0, min(cellSize - 1, side))
                carry = want - Double(side * side)
                guard side > 0 else { continue }
                let x0 = Double(i) * cell, y0 = Double(j) * cell
                let half = Double(side) / 2
                let room = cell - 1 - Double(side)
                let left = Int32(x0 + min(max((sx[k] / area[k] - half - x0).rounded(), 0), room))
                let top = Int32(y0 + min(max((sy[k] / area[k] - half - y0).rounded(), 0), room))
                let s = Int32(side)
                // Clockwise on screen (y down): positive area, an exterior ring.
                out.append([TilePoint(left, top), TilePoint(left + s, top), TilePoint(left + s, top + s), TilePoint(left, top + s)])
            }
        }
        return out
    }
}
