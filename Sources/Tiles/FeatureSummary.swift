import Foundation
import GeoCore
import Synchronization

/// Every feature of a large layer version as a box and an area, held in memory and bucketed
/// on a grid: what low zooms need, since there a parcel is smaller than a pixel and only
/// its place and area matter. Built once per layer version (versions never change), so a
/// z8 tile over 150,000 parcels reads no geometry at all.
final class FeatureSummary: Sendable {
    let fid: [Int64]
    let minX: [Double], minY: [Double], maxX: [Double], maxY: [Double]
    let areaM2: [Double]
    private let bounds: BoundingBox
    private let nx: Int, ny: Int
    private let bucketStart: [Int32]
    /// The largest feature, so a query by centre bucket can widen to catch every box.
    private let maxHalfWidth: Double, maxHalfHeight: Double

    var count: Int { fid.count }

    /// Boxes and areas in a grid's normalised world square (x right, y down, [0, 1]²):
    /// worked out once per grid, so a tile only scales and shifts them (no log, tan or cos
    /// per feature per tile).
    struct Projected {
        let minX: [Double], minY: [Double], maxX: [Double], maxY: [Double]
        let area: [Double]
    }
    /// By projection (the grid's only difference that matters here): a slot each, not a
    /// dictionary by name, since every tile asks.
    private let projections = Mutex<(mercator: Projected?, geographic: Projected?)>((nil, nil))

    /// Worked out with the lock held, so two tiles asking at once do it once.
    func projected(_ grid: TileMatrixSet) -> Projected {
        projections.withLock { projections -> Projected in
            if let p = grid.projection == .webMercator ? projections.mercator : projections.geographic { return p }
            var x0 = [Double](), y0 = [Double](), x1 = [Double](), y1 = [Double](), a = [Double]()
            x0.reserveCapacity(count); y0.reserveCapacity(count); x1.reserveCapacity(count); y1.reserveCapacity(count);
            a.reserveCapacity(count)
            for k in 0..<count {
                let tl = grid.world(minX[k], maxY[k]), br = grid.world(maxX[k], minY[k])
                x0.append(tl.x); y0.append(tl.y); x1.append(br.x); y1.append(br.y)
                let u = grid.unitsPerMetre(latitude: (minY[k] + maxY[k]) / 2, z: 0, extent: 1)
                a.append(areaM2[k] * u.x * u.y)
            }
            let p = Projected(minX: x0, minY: y0, maxX: x1, maxY: y1, area: a)
            if grid.projection == .webMercator { projections.mercator = p } else { projections.geographic = p }
            return p
        }
    }

    /// Bucket position → the feature's position in the order it was read (its row in
    /// `ResidentLayer`'s shapes and attributes).
    let row: [Int32]

    init(_ rows: [(fid: Int64, box: BoundingBox, area: Double)]) {
        var all: BoundingBox?
        var mw = 0.0, mh = 0.0
        for r in rows {
            if all == nil { all = r.box } else { all!.extend(r.box) }
            mw = max(mw, (r.box.maxX - r.box.minX) / 2)
            mh = max(mh, (r.box.maxY - r.box.minY) / 2)
        }
        let bounds = all ?? BoundingBox(0, 0, 0, 0)
        // About 16 features a bucket.
        let side = max(1, min(1024, Int((Double(rows.count) / 16).squareRoot())))
        let nx = side, ny = side
        let w = max(bounds.maxX - bounds.minX, 1e-12), h = max(bounds.maxY - bounds.minY, 1e-12)
        func bucket(_ b: BoundingBox) -> Int {
            let i = min(nx - 1, max(0, Int(((b.minX + b.maxX) / 2 - bounds.minX) / w * Double(nx))))
            let j = min(ny - 1, max(0, Int(((b.minY + b.maxY) / 2 - bounds.minY) / h * Double(ny))))
            return j * nx + i
        }
        var counts = [Int32](repeating: 0, count: nx * ny + 1)
        let buckets = rows.map { bucket($0.box) }
        for b in buckets { counts[b + 1] += 1 }
        for i in 1..<counts.count { counts[i] += counts[i - 1] }
        var next = counts
        var order = [Int](repeating: 0, count: rows.count)
        for (i, b) in buckets.enumerated() {
            order[Int(next[b])] = i
            next[b] += 1
        }
        fid = order.map { rows[$0].fid }
        minX = order.map { rows[$0].box.minX }
        minY = order.map { rows[$0].box.minY }
        maxX = order.map { rows[$0].box.maxX }
        maxY = order.map { rows[$0].box.maxY }
        areaM2 = order.map { rows[$0].area }
        row = order.map { Int32($0) }
        self.bounds = bounds
        self.nx = nx
        self.ny = ny
        bucketStart = counts
        maxHalfWidth = mw
        maxHalfHeight = mh
    }

    /// Calls `body` with the index of every feature whose box meets `box`.
    func forEach(in box: BoundingBox, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let w = max(bounds.maxX - bounds.minX, 1e-12), h = max(bounds.maxY - bounds.minY, 1e-12)
        func col(_ x: Double) -> Int { min(nx - 1, max(0, Int((x - bounds.minX) / w * Double(nx)))) }
        func row(_ y: Double) -> Int { min(ny - 1, max(0, Int((y - bounds.minY) / h * Double(ny)))) }
        if box.maxX + maxHalfWidth < bounds.minX || box.minX - maxHalfWidth > bounds.maxX
            || box.maxY + maxHalfHeight < bounds.minY || box.minY - maxHalfHeight > bounds.maxY
        {
            return
        }
        let i0 = col(box.minX - maxHalfWidth), i1 = col(box.maxX + maxHalfWidth)
        let j0 = row(box.minY - maxHalfHeight), j1 = row(box.maxY + maxHalfHeight)
        for j in j0...j1 {
            let start = Int(bucketStart[j * nx + i0]), end = Int(bucketStart[j * nx + i1 + 1])
            for k in start..<end where maxX[k] >= box.minX && minX[k] <= box.maxX && maxY[k] >= box.minY && minY[k] <= box.maxY {
                body(k)
            }
        }
    }
}
