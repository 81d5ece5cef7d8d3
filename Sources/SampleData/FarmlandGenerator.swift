import Foundation
import GeoCore

/// 永久基本农田 parcels, streamed: the city is cut into square blocks; the blocks nearest the
/// valleys are farmed, each split into 1, 2 or 4 fields, and each field is an irregular
/// polygon strictly inside its own cell — so parcels never overlap, whatever N is, and no
/// parcel needs to be kept in memory.
///
/// Two passes over the blocks: the first builds a histogram of "valley score" to find the
/// threshold that yields exactly N parcels, the second writes them.
struct FarmlandGenerator {
    struct Parcel {
        var polygon: Polygon  // projected metres, EPSG:4549 axes
        var county: Int
        var village: String
        var villageKey: Int
        var invalid: Bool
    }

    let terrain: Terrain
    let seed: UInt64
    let count: Int
    /// Town centres (projected) and the radius inside which there is no farmland: built-up land.
    let towns: [(Coordinate, Double)]
    /// Reservoir lakes (projected polyline, half width): flooded, so no farmland.
    let lakes: [([Coordinate], Double)]
    /// Block size in metres; shrinks when N needs more room than the valleys give.
    private(set) var blockSize: Double = 180
    private var thresholdBin = 0
    private var thresholdTake = 0
    static let binWidth = 10.0
    static let bins = 6000
    /// How far from a river the farthest farmed block is (metres), once planned.
    var reach: Double { Double(thresholdBin + 1) * Self.binWidth }

    init(terrain: Terrain, seed: UInt64, count: Int, towns: [(Coordinate, Double)], lakes: [([Coordinate], Double)]) {
        self.terrain = terrain
        self.seed = seed
        self.count = count
        self.towns = towns
        self.lakes = lakes
    }

    var blockColumns: Int { Int(Double(terrain.cols) * terrain.cell / blockSize) }
    var blockRows: Int { Int(Double(terrain.rows) * terrain.cell / blockSize) }

    func centre(_ bc: Int, _ br: Int) -> Coordinate {
        Coordinate(terrain.minX + (Double(bc) + 0.5) * blockSize, terrain.minY + (Double(br) + 0.5) * blockSize)
    }

    /// Fields in a block: 30% one big field, 40% two, 30% four.
    func fields(_ bc: Int, _ br: Int) -> Int {
        let u = SeededRandom.unit(SeededRandom.hash(seed, bc, br, 0xF1E1D))
        return u < 0.3 ? 1 : (u < 0.7 ? 2 : 4)
    }

    /// The block's score bin (lower is more valley-like), or nil if it cannot be farmed.
    func bin(_ bc: Int, _ br: Int) -> Int? {
        let c = centre(bc, br)
        guard terrain.countyIndex(at: c) != nil else { return nil }
        for (t, r) in towns where hypot(c.x - t.x, c.y - t.y) < r { return nil }
        for (line, w) in lakes where Shapes.distance(c, toPolyline: line) < w + 60 { return nil }
        let noise = SeededRandom.unit(SeededRandom.hash(seed, bc, br, 0x5C0E)) * 250
        return min(Self.bins - 1, Int((terrain.distanceToRiver(at: c) + noise) / Self.binWidth))
    }

    /// First pass: pick the block size and threshold that give exactly `count` parcels.
    mutating func plan() throws {
        while true {
            var histogram = [Int](repeating: 0, count: Self.bins)
            for br in 0..<blockRows {
                for bc in 0..<blockColumns {
                    if let b = bin(bc, br) { histogram[b] += fields(bc, br) }
                }
            }
            var total = 0
            for (b, n) in histogram.enumerated() {
                if total + n >= count {
                    thresholdBin = b
                    thresholdTake = count - total
                    return
                }
                total += n
            }
            guard blockSize > 40 else { throw SampleError("cannot fit \(count) farmland parcels in Lishui") }
            blockSize *= 0.85
        }
    }

    /// Second pass: calls `emit` for each parcel, in a fixed order.
    func generate(_ emit: (Parcel) throws -> Void) rethrows {
        var takeLeft = thresholdTake
        var emitted = 0
        for br in 0..<blockRows {
            for bc in 0..<blockColumns {
                guard let b = bin(bc, br), b <= thresholdBin else { continue }
                var k = fields(bc, br)
                if b == thresholdBin {
                    guard takeLeft > 0 else { continue }
                    k = min(k, takeLeft)
                    takeLeft -= k
                }
                let n = fields(bc, br)
                for part in 0..<k {
                    try emit(parcel(bc, br, part: part, of: n, sequence: emitted))
                    emitted += 1
                }
            }
        }
    }

    func parcel(_ bc: Int, _ br: Int, part: Int, of n: Int, sequence: Int) -> Parcel {
        var rng = SeededRandom(seed: seed, stream: UInt64(br) << 32 | UInt64(bc) << 3 | UInt64(part))
        // The part's cell inside the block.
        let x0 = terrain.minX + Double(bc) * blockSize, y0 = terrain.minY + Double(br) * blockSize
        var cell = (x: x0, y: y0, w: blockSize, h: blockSize)
        switch n {
        case 2:
            if (bc + br) % 2 == 0 {
                cell = (x0 + Double(part) * blockSize / 2, y0, blockSize / 2, blockSize)
            } else {
                cell = (x0, y0 + Double(part) * blockSize / 2, blockSize, blockSize / 2)
            }
        case 4:
            cell = (x0 + Double(part % 2) * blockSize / 2, y0 + Double(part / 2) * blockSize / 2, blockSize / 2, blockSize / 2)
        default: break
        }
        // A star-shaped field: four jittered corners and a few wobbly edge points.
        let cx = cell.x + cell.w / 2, cy = cell.y + cell.h / 2
        let shrink = rng.range(0.62, 0.97)  // how much of its cell the field fills (the rest is ridges and paths)
        let corners = 4 + rng.int(2)
        let extra = rng.int(4)
        let m = corners + extra
        var ring: [Coordinate] = []
        let start = rng.range(0, 2 * .pi / Double(m))
        var angle = start
        for _ in 0..<m {
            // Strictly increasing angles within one turn keep the ring simple.
            guard angle < start + 2 * .pi - 0.2 else { break }
            let a = angle
            // The largest radius at this angle that stays inside the cell (less a margin).
            let hx = cell.w / 2 * 0.96, hy = cell.h / 2 * 0.96
            let limit = min(abs(cos(a)) > 1e-9 ? hx / abs(cos(a)) : .infinity, abs(sin(a)) > 1e-9 ? hy / abs(sin(a)) : .infinity)
            let r = limit * shrink * rng.range(0.82, 1.0)
            ring.append(Coordinate(cx + r * cos(a), cy + r * sin(a)))
            angle += 2 * .pi / Double(m) * rng.range(0.75, 1.25)
        }
        ring.append(ring[0])
        var polygon = Polygon([ring])
        // A house plot in some larger fields: a hole well inside the inscribed circle.
        if rng.unit() < 0.03 {
            let inscribed = zip(ring, ring.dropFirst()).map { Shapes.distance(Coordinate(cx, cy), toSegment: $0, $1) }.min() ?? 0
            let half = inscribed * 0.35
            if half > 4 {
                polygon.rings.append(Array(Shapes.rectangle(cx, cy, 2 * half, 1.4 * half).reversed()))
            }
        }
        // A few broken rings, as real surveys have: two vertices swapped make a bow-tie.
        let invalid = sequence % 2999 == 17 && ring.count > 5
        if invalid {
            var r = polygon.rings[0]
            r.swapAt(1, 2)
            polygon.rings[0] = r
        }
        // Villages: a 2.5 km grid of invented names.
        let vc = Int(cx / 2500), vr = Int(cy / 2500)
        let vh = SeededRandom.hash(seed, vc, vr, 0x71)
        let first = Lishui.villageFirst[Int(vh % UInt64(Lishui.villageFirst.count))]
        let second = Lishui.villageSecond[Int((vh >> 20) % UInt64(Lishui.villageSecond.count))]
        return Parcel(
            polygon: polygon, county: terrain.countyIndex(at: Coordinate(cx, cy)) ?? 0,
            village: "\(first)\(second)村", villageKey: vr * 100_000 + vc, invalid: invalid)
    }
}

public struct SampleError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
