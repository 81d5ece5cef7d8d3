import LandUse

/// A land-use layer's coverage, merged by land class.
///
/// A wall-to-wall 三调 layer at an overview zoom is millions of 图斑 a few metres across: as
/// plain coverage squares (`CoverageGrid.squares`) it would become a grey screen of dots with
/// its classes lost. Here each coverage cell takes the 一级类 with the most area in it, and the
/// cells of one class that the data fills are traced into polygons — one feature per class,
/// its outline following the cells, its holes where another class lies — so 林地 becomes one
/// green region with 耕地 valleys cut out of it. A cell the data only partly fills (the city's
/// edge, or beside 图斑 drawn as outlines) is a square of the area that fell into it, inside
/// the cell, as for other layers. Areas are kept: a full cell is drawn whole, a partial one by
/// its area, and the rounding is carried from cell to cell as in `squares()`.
struct ClassRegion {
    /// The 一级类 code ("03"), or "" for 地类编码 the classification does not know.
    let classCode: String
    /// The 地类编码 with the most area in this class in the tile: the value a style keyed on
    /// the code field colours it by.
    let code: String
    /// How many 图斑 it stands for.
    let count: Int
    /// Exterior rings (clockwise on screen, y down), each followed by its holes, then the
    /// squares of partly filled cells.
    let rings: [[TilePoint]]
}

extension CoverageGrid {
    /// A cell counts as filled when the data covers this share of it: 图斑 go to the cell of
    /// their centre, so a cell inside the layer holds somewhat more or less than its own area.
    static let filledShare = 0.75
    /// For other layers, whose data need not cover the ground: a cell is drawn whole (and
    /// joins its neighbours' block) only when the data all but fills it, so a block overstates
    /// its cells by a tenth at most (and that goes from the squares drawn after it). Adjacent
    /// parcels (farmland cut from one survey) become blocks; scattered ones keep a square each,
    /// of their area. Not 0.95: a cell on the tile's edge lacks the parcels whose centres lie in
    /// the next tile, and a field running across the edge would end in a row of squares there.
    static let blockShare = 0.9

    /// The coverage merged by land class, largest area first; empty for a grid without codes.
    func classRegions(_ classification: LandClassification) -> [ClassRegion] {
        guard let codeNames, !items.isEmpty else { return [] }
        // The classes: 一级类 in code order, then "" for unknown codes.
        let classCodes = classification.classes.keys.sorted() + [""]
        let classIndex = Dictionary(uniqueKeysWithValues: classCodes.enumerated().map { ($1, $0) })
        let classOfCode = codeNames.map { classIndex[classification.code($0)?.classCode ?? ""]! }
        let classes = classCodes.count
        var codeArea = [Double](repeating: 0, count: codeNames.count + 1)
        for it in items { codeArea[it.code >= 0 ? Int(it.code) : codeNames.count] += it.area }
        // The cells the tile shed whole (`shed`), not `effectiveCellSize`: a shed cell is all
        // coverage and fills, where a larger cell would mix it with 图斑 kept as outlines and its
        // square would lie over them, losing area. A filled cell is drawn whole however large
        // its largest 图斑, so it needs no room for one.
        let traced = regions(
            classes: classes, classOf: { $0 >= 0 ? classOfCode[Int($0)] : classes - 1 }, cellSize: cellSize,
            filling: .share(Self.filledShare))
        var out: [(area: Double, region: ClassRegion)] = []
        for (c, r) in traced.enumerated() where r.count > 0 && !r.rings.isEmpty {
            // The class's commonest code, by area in the tile.
            var code = -1
            for (id, cls) in classOfCode.enumerated() where cls == c && codeArea[id] > 0 && (code < 0 || codeArea[id] > codeArea[code]) {
                code = id
            }
            out.append(
                (r.area, ClassRegion(classCode: classCodes[c], code: code >= 0 ? codeNames[code] : "", count: r.count, rings: r.rings)))
        }
        return out.sorted { ($0.area, $1.region.classCode) > ($1.area, $0.region.classCode) }.map(\.region)
    }

    /// A layer's coverage as blocks (coalescing): the cells its data all but fills
    /// (`blockShare`) traced into polygons, one per group of adjacent cells with holes where
    /// the data leaves a cell open, and a square of its area in each other cell. Where
    /// `squares()` draws a field of farmland as a grid of separate squares, this draws it as the
    /// blocks it forms on the ground. Rings as in `ClassRegion`; the area kept as there.
    func blocks() -> [[TilePoint]] {
        guard !items.isEmpty else { return [] }
        let cellSize = effectiveCellSize
        let cell = Double(cellSize)
        // Less area than one cell's worth: no cell can be filled (most tiles of a sparse layer).
        let filled = totalArea < Self.blockShare * cell * cell ? [] : cellsFilled(cellSize: cellSize, share: Self.blockShare)
        return regions(classes: 1, classOf: { _ in 0 }, cellSize: cellSize, filling: .cells(filled))[0].rings
    }

    /// The cells the data covers at least `share` of, each contribution taken as a square of
    /// its area about its centre and shared among the cells that square meets. (By centre
    /// alone, a field of parcels a sixth of a cell across puts five or seven columns of them in
    /// each cell, 70% or 120% of it, and the field would come out as a mix of blocks and squares.)
    func cellsFilled(cellSize: Int, share: Double) -> Set<Int> {
        let n = max(1, extent / cellSize)
        let cell = Double(cellSize), e = Double(extent)
        var covered = [Double](repeating: 0, count: n * n)
        for it in items {
            let half = it.area.squareRoot() / 2
            let x0 = max(0, it.x - half), x1 = min(e, it.x + half), y0 = max(0, it.y - half), y1 = min(e, it.y + half)
            guard x1 > x0, y1 > y0 else { continue }
            // What falls past the tile's edge stays in the edge cells: the area is the tile's.
            let scale = it.area / ((x1 - x0) * (y1 - y0))
            for j in Int(y0 / cell)...min(n - 1, Int(y1 / cell)) {
                let h = min(y1, Double(j + 1) * cell) - max(y0, Double(j) * cell)
                guard h > 0 else { continue }
                for i in Int(x0 / cell)...min(n - 1, Int(x1 / cell)) {
                    let w = min(x1, Double(i + 1) * cell) - max(x0, Double(i) * cell)
                    if w > 0 { covered[j * n + i] += w * h * scale }
                }
            }
        }
        let full = share * cell * cell
        return Set(covered.indices.filter { covered[$0] >= full })
    }

    /// When a cell is drawn whole: when the contributions centred in it reach a share of it,
    /// or when it is one of given cells (`cellsFilled`, by footprint).
    enum Filling {
        case share(Double)
        case cells(Set<Int>)

        var cells: Set<Int>? {
            if case .cells(let cells) = self { cells } else { nil }
        }
    }

    /// Each class's rings (its filled cells traced, then the squares of the partly filled cells
    /// it has the most area in), how many contributions it stands for, and its area. The area
    /// of the contributions centred in filled cells less the cells' own is carried to the
    /// squares, so the total stays the data's.
    private func regions(classes: Int, classOf: (Int32) -> Int, cellSize: Int, filling: Filling)
        -> [(rings: [[TilePoint]], count: Int, area: Double)]
    {
        let n = max(1, extent / cellSize)
        let cell = Double(cellSize)
        // Sums by occupied cell only, in cell order (the rounding carried from cell to cell
        // goes in that order): a tile's coverage often fills a few dozen of its 16,384 cells,
        // and grids of every cell by every class cost a z14 tile more than its outlines did.
        let cellOf = items.map { it in min(n - 1, Int(it.y / cell)) * n + min(n - 1, Int(it.x / cell)) }
        let occupied = Array(Set(cellOf).union(filling.cells ?? [])).sorted()
        let slotOf = Dictionary(uniqueKeysWithValues: occupied.enumerated().map { ($1, $0) })
        let slots = occupied.count
        var area = [Double](repeating: 0, count: slots * classes)
        var total = [Double](repeating: 0, count: slots)
        var sx = [Double](repeating: 0, count: slots)
        var sy = [Double](repeating: 0, count: slots)
        var cellCount = [Int](repeating: 0, count: slots)
        for (it, k) in zip(items, cellOf) {
            let s = slotOf[k]!
            area[s * classes + classOf(it.code)] += it.area
            total[s] += it.area
            sx[s] += it.x * it.area
            sy[s] += it.y * it.area
            cellCount[s] += it.count
        }
        // Each cell's class, whether it is filled, and the squares of partial cells.
        var label: [Int]? = nil
        var filled = [Bool](repeating: false, count: classes)
        var squares = Array(repeating: [[TilePoint]](), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        var carry = 0.0
        for (s, k) in occupied.enumerated() where total[s] > 0 || filling.cells?.contains(k) == true {
            var best = 0
            for c in 1..<classes where area[s * classes + c] > area[s * classes + best] { best = c }
            counts[best] += cellCount[s]
            let isFilled: Bool
            switch filling {
            case .share(let share): isFilled = total[s] >= share * cell * cell
            case .cells(let cells): isFilled = cells.contains(k)
            }
            if isFilled {
                if label == nil { label = [Int](repeating: -1, count: n * n) }
                label![k] = best
                filled[best] = true
                carry += total[s] - cell * cell
                continue
            }
            let want = total[s] + carry
            guard want > 0 else { carry = want; continue }
            // Strictly inside the cell: a square never touches a filled neighbour's outline.
            let side = max(0, min(cellSize - 2, Int(want.squareRoot().rounded())))
            carry = want - Double(side * side)
            guard side > 0 else { continue }
            let i = k % n, j = k / n
            let x0 = Double(i) * cell, y0 = Double(j) * cell
            let half = Double(side) / 2, room = cell - 1 - Double(side)
            let left = Int32(x0 + min(max((sx[s] / total[s] - half - x0).rounded(), 1), room))
            let top = Int32(y0 + min(max((sy[s] / total[s] - half - y0).rounded(), 1), room))
            let side32 = Int32(side)
            squares[best].append([
                TilePoint(left, top), TilePoint(left + side32, top), TilePoint(left + side32, top + side32), TilePoint(left, top + side32)
            ])
        }
        return (0..<classes).map { c in
            let outlined = filled[c] ? CellOutline(label: label!, n: n, of: c).rings(cellSize: Int32(cellSize)) : []
            return (outlined + squares[c], counts[c], (0..<slots).reduce(0.0) { $0 + area[$1 * classes + c] })
        }
    }
}

/// The outline of the cells of one class in an n × n grid of labels, as rings: each
/// 4-connected group of cells gives its exterior ring (clockwise on screen, y down, as MVT
/// wants exteriors) followed by its holes (anticlockwise). Every cell edge with the class on
/// one side only is walked with the class on its right. Where two cells of the class meet
/// only at a corner the walk chooses so that no ring touches itself: groups that touch at a
/// corner stay two polygons, and a group that closes on itself at a corner gets a hole that
/// touches its exterior there (both valid in the OGC sense, as GEOS checks in the tests).
struct CellOutline {
    let label: [Int]
    let n: Int
    let of: Int

    private func inClass(_ i: Int, _ j: Int) -> Bool { i >= 0 && j >= 0 && i < n && j < n && label[j * n + i] == of }

    func rings(cellSize: Int32) -> [[TilePoint]] {
        // The group of each cell of the class: holes go after their group's exterior, and a
        // corner where two cells meet diagonally is walked by whether they are one group.
        var group = [Int](repeating: -1, count: n * n)
        var groups = 0
        for k in 0..<(n * n) where label[k] == of && group[k] < 0 {
            var stack = [k]
            group[k] = groups
            while let m = stack.popLast() {
                let i = m % n, j = m / n
                for (a, b) in [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)] where inClass(a, b) && group[b * n + a] < 0 {
                    group[b * n + a] = groups
                    stack.append(b * n + a)
                }
            }
            groups += 1
        }
        let side = n + 1
        // Outgoing edges by start vertex (at most two: a corner where two cells meet diagonally).
        var out = [(Int32, Int32)](repeating: (-1, -1), count: side * side)
        var starts: [Int] = []
        func edge(_ a: (Int, Int), _ b: (Int, Int)) {
            let v = a.1 * side + a.0, w = Int32(b.1 * side + b.0)
            if out[v].0 < 0 { out[v].0 = w } else { out[v].1 = w }
            starts.append(v)
        }
        for j in 0..<n {
            for i in 0..<n where label[j * n + i] == of {
                if !inClass(i, j - 1) { edge((i, j), (i + 1, j)) }
                if !inClass(i + 1, j) { edge((i + 1, j), (i + 1, j + 1)) }
                if !inClass(i, j + 1) { edge((i + 1, j + 1), (i, j + 1)) }
                if !inClass(i - 1, j) { edge((i, j + 1), (i, j)) }
            }
        }
        guard !starts.isEmpty else { return [] }
        var exteriors = Array(repeating: [TilePoint](), count: groups)
        var holes = Array(repeating: [[TilePoint]](), count: groups)
        var used = Set<Int64>()
        func key(_ v: Int, _ w: Int32) -> Int64 { Int64(v) << 32 | Int64(w) }
        for start in starts {
            let first = out[start].0 >= 0 && !used.contains(key(start, out[start].0)) ? out[start].0 : out[start].1
            guard first >= 0, !used.contains(key(start, first)) else { continue }
            var ring: [(Int, Int)] = []
            var v = start, w = Int(first)
            // The cell on the right of the first edge: its group owns the ring.
            let (dx0, dy0) = (w % side - v % side, w / side - v / side)
            let right = (v % side - (dy0 > 0 || dx0 < 0 ? 1 : 0), v / side - (dx0 < 0 || dy0 < 0 ? 1 : 0))
            repeat {
                used.insert(key(v, Int32(w)))
                ring.append((v % side, v / side))
                let (dx, dy) = (w % side - v % side, w / side - v / side)
                let (a, b) = out[w]
                var next = Int(a)
                if b >= 0 {
                    // Two ways on, at a corner where two cells of the class meet diagonally.
                    // Cells of two groups: turn right, (dx, dy) → (−dy, dx) with y down, and each
                    // group keeps its own ring. Cells of one group (joined some other way):
                    // turn left, so its outline and the hole the join closes are two rings that
                    // touch, not one ring that touches itself (which would be invalid).
                    let x = w % side, y = w / side
                    let (p, q) = inClass(x - 1, y - 1) ? ((x - 1, y - 1), (x, y)) : ((x, y - 1), (x - 1, y))
                    let oneGroup = group[p.1 * n + p.0] == group[q.1 * n + q.0]
                    let turn = oneGroup ? (x + dy) + (y - dx) * side : (x - dy) + (y + dx) * side
                    next = Int(a) == turn ? Int(a) : Int(b)
                }
                v = w
                w = next
            } while !(v == start && w == Int(first))
            // Corners only: drop the vertices where the walk goes straight on.
            var corners: [TilePoint] = []
            for (m, p) in ring.enumerated() {
                let before = ring[(m + ring.count - 1) % ring.count], after = ring[(m + 1) % ring.count]
                if (p.0 - before.0) * (after.1 - p.1) - (p.1 - before.1) * (after.0 - p.0) != 0 {
                    corners.append(TilePoint(Int32(p.0) * cellSize, Int32(p.1) * cellSize))
                }
            }
            let g = group[right.1 * n + right.0]
            if Self.signedArea(corners) > 0 { exteriors[g] = corners } else { holes[g].append(corners) }
        }
        return (0..<groups).flatMap { [exteriors[$0]] + holes[$0] }
    }

    /// Twice the signed area, positive for a ring clockwise on screen (y down).
    static func signedArea(_ ring: [TilePoint]) -> Int64 {
        var s: Int64 = 0
        for m in ring.indices {
            let p = ring[m], q = ring[(m + 1) % ring.count]
            s += Int64(p.x) * Int64(q.y) - Int64(q.x) * Int64(p.y)
        }
        return s
    }
}
