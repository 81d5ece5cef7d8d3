/// A static R-tree over boxes held in memory: the items sorted along a Hilbert curve and
/// packed sixteen to a node, level upon level (the packed Hilbert R-tree of Kamel and
/// Faloutsos, 1994, as flatbush and FlatGeobuf lay it out).
///
/// Why, beside SQLite's R*Tree: on a small site the R*Tree's virtual table is much of a
/// conflict check — a statement per layer, the tree's nodes read as blobs and
/// decoded on every search, and a join to the rows. Here a search is a walk over arrays of
/// doubles, exact boxes (the R*Tree rounds to 32-bit floats), and the boxes it finds can be
/// placed against the site before any row is read. It costs ~40 bytes and a sort per item
/// to build, so checkers that live long (the server, `check --each`) build one per large layer
/// version, once.
public struct BoxIndex: Sendable {
    public static let nodeSize = 16

    /// Item boxes in Hilbert order, then each level of nodes above them, the root last: four
    /// doubles (minX, minY, maxX, maxY) per entry.
    private let boxes: [Double]
    /// The item each leaf entry is, as given to `init` (its position in the caller's list).
    private let items: [Int32]
    /// Where each level ends in entries: level 0 (the items) ends at `count`.
    private let levelEnds: [Int]
    public let count: Int

    /// `boxes[i]` is item `i`'s box.
    public init(_ itemBoxes: [BoundingBox]) {
        count = itemBoxes.count
        guard count > 0 else { boxes = []; items = []; levelEnds = [0]; return }
        // Neighbours on the curve are neighbours on the ground, so each node's box stays small.
        let order = HilbertCurve.order(count: count) { itemBoxes[$0] }
        var boxes: [Double] = []
        boxes.reserveCapacity(count * 4 * 17 / 15 + 8)
        for i in order {
            let b = itemBoxes[Int(i)]
            boxes.append(b.minX); boxes.append(b.minY); boxes.append(b.maxX); boxes.append(b.maxY)
        }
        var levelEnds = [count]
        var levelStart = 0, levelEnd = count
        while levelEnd - levelStart > 1 {
            var i = levelStart
            while i < levelEnd {
                let last = min(i + Self.nodeSize, levelEnd)
                var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
                for j in i..<last {
                    minX = min(minX, boxes[4 * j]); minY = min(minY, boxes[4 * j + 1])
                    maxX = max(maxX, boxes[4 * j + 2]); maxY = max(maxY, boxes[4 * j + 3])
                }
                boxes.append(minX); boxes.append(minY); boxes.append(maxX); boxes.append(maxY)
                i = last
            }
            levelStart = levelEnd
            levelEnd = boxes.count / 4
            levelEnds.append(levelEnd)
        }
        self.boxes = boxes
        items = order
        self.levelEnds = levelEnds
    }

    /// Calls `visit` with every item whose box meets `query` (closed boxes: touching counts),
    /// and that box, each once, in no particular order.
    public func search(_ query: BoundingBox, _ visit: (Int, BoundingBox) -> Void) {
        guard count > 0 else { return }
        let qMinX = query.minX, qMinY = query.minY, qMaxX = query.maxX, qMaxY = query.maxY
        // Pending nodes as (level, entry); a tree over 2^31 items is 8 levels of 16, so the
        // stack stays short.
        var stack: [(level: Int, entry: Int)] = [(levelEnds.count - 1, boxes.count / 4 - 1)]
        boxes.withUnsafeBufferPointer { b in
            while let (level, entry) = stack.popLast() {
                // The entry's children: the entries of the level below it, sixteen per node.
                let levelStart = level == 0 ? 0 : levelEnds[level - 1]
                let childLevelStart = level <= 1 ? 0 : levelEnds[level - 2]
                let first = childLevelStart + (entry - levelStart) * Self.nodeSize
                let end = level == 0 ? entry + 1 : min(first + Self.nodeSize, levelEnds[level - 1])
                let from = level == 0 ? entry : first
                for j in from..<end {
                    if b[4 * j + 2] < qMinX || b[4 * j] > qMaxX || b[4 * j + 3] < qMinY || b[4 * j + 1] > qMaxY { continue }
                    if level <= 1 {
                        visit(Int(items[j]), BoundingBox(b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]))
                    } else {
                        stack.append((level - 1, j))
                    }
                }
            }
        }
    }
}
