import Foundation
import GRDB
import GeoCore

/// A version's SpatiaLite R*Tree, written packed: its entries sorted along a Hilbert curve,
/// cut into full leaves, and the nodes above made the same way, then stored straight into the
/// three tables behind SQLite's `rtree` module (`<index>_node`, `_rowid`, `_parent`) in the
/// module's own node format.
///
/// Why not `INSERT INTO <index> SELECT …`: SQLite inserts one entry at a time, choosing a
/// subtree, splitting and reinserting as an R*Tree does; at 2.35 million 图斑 that was 38 % of
/// the land-use load (about 23 s). Packed, it is a sort and a few sequential writes, and its
/// full, spatially ordered nodes make a search touch fewer pages than the grown tree's. The
/// result is an ordinary `rtree` table: SpatiaLite, QGIS and later inserts use it as SQLite
/// made it, and `rtreecheck()` passes (tested).
struct PackedRTree {
    /// One leaf entry, with its box as the module stores it: 32-bit floats rounded outward.
    struct Entry {
        var id: Int64
        var minX: Float, maxX: Float, minY: Float, maxY: Float
    }

    private(set) var entries: [Entry] = []

    init(capacity: Int = 0) { entries.reserveCapacity(capacity) }

    /// Adds an entry; a tree holds fewer than 2³² of them.
    mutating func add(id: Int64, box: BoundingBox) {
        entries.append(
            Entry(id: id, minX: Self.down(box.minX), maxX: Self.up(box.maxX), minY: Self.down(box.minY), maxY: Self.up(box.maxY)))
    }

    /// Creates the `rtree` table `index` and fills it with the entries (which it lets go of:
    /// a city's land use holds millions).
    mutating func write(_ index: String, db: Database) throws {
        try db.execute(sql: "CREATE VIRTUAL TABLE \(index.sqlIdentifier) USING rtree(pkid, xmin, xmax, ymin, ymax)")
        guard !entries.isEmpty else { return }
        // The module sizes its nodes from the page size when it creates the table (and reads
        // the size back from the root's length ever after): take it from the root it made.
        guard let nodeSize = try Int.fetchOne(db, sql: "SELECT length(data) FROM \((index + "_node").sqlIdentifier) WHERE nodeno = 1"),
            nodeSize >= 4 + 2 * Self.cellBytes
        else { throw StoreError.invalidRequest("the R*Tree '\(index)' has no usable root node") }
        let capacity = (nodeSize - 4) / Self.cellBytes
        let order = hilbertOrder()
        let first = Self.firstNodes(count: entries.count, capacity: capacity)
        try db.execute(sql: "DELETE FROM \((index + "_node").sqlIdentifier)")
        let node = try db.makeStatement(sql: "INSERT INTO \((index + "_node").sqlIdentifier)(nodeno, data) VALUES (?, ?)")
        let parent = try db.makeStatement(sql: "INSERT INTO \((index + "_parent").sqlIdentifier)(nodeno, parentnode) VALUES (?, ?)")
        // Level by level from the leaves up: each level's nodes are runs of `capacity` cells
        // of the one below (the entries in curve order for the leaves), and their boxes the
        // cells of the one above.
        let depth = first.count - 1
        var cells: [Entry] = []
        for level in first.indices {
            let count = level == 0 ? entries.count : cells.count
            var above: [Entry] = []
            above.reserveCapacity(count / capacity + 1)
            for (k, start) in stride(from: 0, to: count, by: capacity).enumerated() {
                let range = start..<min(start + capacity, count)
                let run = level == 0 ? order[range].map { entries[Int($0)] }[...] : cells[range]
                let number = first[level] + Int64(k)
                try node.execute(arguments: [number, Self.blob(run, depth: level == depth ? depth : 0, size: nodeSize)])
                if level < depth { try parent.execute(arguments: [number, first[level + 1] + Int64(k / capacity)]) }
                above.append(Self.box(of: run, id: number))
            }
            cells = above
        }
        // The entries' leaves, in id order: appended to the rowid table's B-tree, not scattered.
        // The leaves hold the entries in curve order, `capacity` to a leaf.
        var leafOf = [Int32](repeating: 0, count: entries.count)
        for (j, i) in order.enumerated() { leafOf[Int(i)] = Int32(j / capacity) }
        let rowid = RowInsert(
            statement: try db.makeStatement(sql: "INSERT INTO \((index + "_rowid").sqlIdentifier)(rowid, nodeno) VALUES (?, ?)"))
        for (i, e) in entries.enumerated() {
            try rowid.insert { b in
                b.integer(e.id)
                b.integer(first[0] + Int64(leafOf[i]))
            }
        }
        entries = []
    }

    /// The number of each level's first node, from the leaves up: numbered from the root
    /// (1, as the module requires) down, so the levels near the root sit together at the
    /// start of the node table and the leaves follow in curve order.
    static func firstNodes(count: Int, capacity: Int) -> [Int64] {
        var counts: [Int] = []
        var n = count
        repeat {
            n = (n + capacity - 1) / capacity
            counts.append(n)
        } while n > 1
        var first = [Int64](repeating: 0, count: counts.count)
        var next: Int64 = 1
        for level in counts.indices.reversed() {
            first[level] = next
            next += Int64(counts[level])
        }
        return first
    }

    /// The box around a run of cells, as the cell that points at their node.
    static func box(of run: ArraySlice<Entry>, id: Int64) -> Entry {
        var b = run[run.startIndex]
        b.id = id
        for c in run {
            b.minX = min(b.minX, c.minX)
            b.maxX = max(b.maxX, c.maxX)
            b.minY = min(b.minY, c.minY)
            b.maxY = max(b.maxY, c.maxY)
        }
        return b
    }

    /// The entries' places along a Hilbert curve through their boxes' centres: neighbours on
    /// the map are neighbours in a leaf.
    func hilbertOrder() -> [Int32] {
        HilbertCurve.order(count: entries.count) { i in
            let e = entries[i]
            return BoundingBox(Double(e.minX), Double(e.minY), Double(e.maxX), Double(e.maxY))
        }
    }

    /// Bytes of one cell: a 64-bit id and four 32-bit coordinates.
    static let cellBytes = 24

    /// A node in the module's format: the tree's depth (the root's only), the cell count, and
    /// the cells, all big-endian, padded with zeros to the node size.
    static func blob(_ cells: ArraySlice<Entry>, depth: Int, size: Int) -> Data {
        var data = Data(count: size)
        data.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            func put16(_ v: Int, at o: Int) {
                p[o] = UInt8(truncatingIfNeeded: v >> 8)
                p[o + 1] = UInt8(truncatingIfNeeded: v)
            }
            func put(_ v: UInt64, bytes: Int, at o: Int) {
                for i in 0..<bytes { p[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(bytes - 1 - i))) }
            }
            put16(depth, at: 0)
            put16(cells.count, at: 2)
            var o = 4
            for c in cells {
                put(UInt64(bitPattern: c.id), bytes: 8, at: o)
                put(UInt64(c.minX.bitPattern), bytes: 4, at: o + 8)
                put(UInt64(c.maxX.bitPattern), bytes: 4, at: o + 12)
                put(UInt64(c.minY.bitPattern), bytes: 4, at: o + 16)
                put(UInt64(c.maxY.bitPattern), bytes: 4, at: o + 20)
                o += cellBytes
            }
        }
        return data
    }

    // The module's own rounding of a coordinate to a 32-bit float (rtreeValueDown/Up in
    // SQLite's rtree.c): outward, so a stored box never cuts its feature.
    static func down(_ d: Double) -> Float {
        var f = Float(d)
        if Double(f) > d { f = Float(d * (d < 0 ? roundAway : roundTowards)) }
        return f
    }

    static func up(_ d: Double) -> Float {
        var f = Float(d)
        if Double(f) < d { f = Float(d * (d < 0 ? roundTowards : roundAway)) }
        return f
    }

    private static let roundTowards = 1.0 - 1.0 / 8_388_608.0
    private static let roundAway = 1.0 + 1.0 / 8_388_608.0
}
