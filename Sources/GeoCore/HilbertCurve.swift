/// A Hilbert curve over a 2¹⁶ × 2¹⁶ grid, and boxes put in its order: what the packed trees
/// (`BoxIndex` in memory, the SpatiaLite R*Tree a load writes) sort their items by, so that
/// neighbours on the ground are neighbours in a node and each node's box stays small.
public enum HilbertCurve {
    /// Bits per axis of the curve's grid.
    public static let bits = 16

    /// The position of cell (x, y) along the curve: at each scale, which quadrant the cell is
    /// in, with the frame turned so the curve runs on unbroken.
    public static func index(_ x: UInt32, _ y: UInt32) -> UInt32 {
        var x = x, y = y, d: UInt32 = 0
        var s: UInt32 = 1 << (UInt32(bits) - 1)
        while s > 0 {
            let rx: UInt32 = (x & s) > 0 ? 1 : 0
            let ry: UInt32 = (y & s) > 0 ? 1 : 0
            d += s * s * ((3 * rx) ^ ry)
            // Turn the quadrant so the curve inside it starts and ends where its neighbours join.
            if ry == 0 {
                if rx == 1 { x = s &- 1 &- x; y = s &- 1 &- y }
                swap(&x, &y)
            }
            s >>= 1
        }
        return d
    }

    /// The places `0 ..< count` in the order of their boxes' centres along the curve over the
    /// boxes' extent; equal positions keep the places' order, so the same boxes always come
    /// out the same way. `box(i)` is place i's box; fewer than 2³¹ places.
    public static func order(count: Int, box: (Int) -> BoundingBox) -> [Int32] {
        guard count > 0 else { return [] }
        var extent = box(0)
        for i in 1..<count { extent.extend(box(i)) }
        let side = Double((1 << bits) - 1)
        let width = max(extent.maxX - extent.minX, .leastNormalMagnitude)
        let height = max(extent.maxY - extent.minY, .leastNormalMagnitude)
        /// A centre's cell; a box that is not finite goes to cell 0 rather than trapping.
        func cell(_ v: Double) -> UInt32 { v.isFinite ? UInt32(max(0, min(side, v))) : 0 }
        // Position and place in one word, sorted as integers.
        var keyed = [UInt64](repeating: 0, count: count)
        for i in 0..<count {
            let b = box(i)
            let x = cell(((b.minX + b.maxX) / 2 - extent.minX) / width * side)
            let y = cell(((b.minY + b.maxY) / 2 - extent.minY) / height * side)
            keyed[i] = UInt64(index(x, y)) << 32 | UInt64(i)
        }
        keyed.sort()
        return keyed.map { Int32(truncatingIfNeeded: $0) }
    }
}
