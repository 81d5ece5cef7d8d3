import Foundation
import GeoCore

/// A raster over the city in projected metres (CGCS2000 GK zone 40, no prefix): which county
/// each cell is in, and how far it is from the nearest river. Farmland follows the valleys,
/// red lines the ridges and river sources; both read this raster instead of the vector data,
/// so millions of parcels cost a lookup each.
struct Terrain {
    let minX: Double, minY: Double
    let cell: Double
    let cols: Int, rows: Int
    /// Index into the county list, or -1 outside the city.
    private(set) var county: [Int8]
    /// Metres to the nearest river (chamfer distance, accurate to a few per cent).
    private(set) var riverDistance: [Float]

    init(counties: [[Polygon]], box: BoundingBox, cell: Double) {
        self.cell = cell
        minX = box.minX - cell
        minY = box.minY - cell
        cols = Int(((box.maxX - box.minX) / cell).rounded(.up)) + 2
        rows = Int(((box.maxY - box.minY) / cell).rounded(.up)) + 2
        county = Array(repeating: -1, count: cols * rows)
        riverDistance = Array(repeating: .infinity, count: cols * rows)
        fillCounties(counties)
    }

    /// Sets the rivers the distances are measured to.
    mutating func setRivers(_ rivers: [[Coordinate]]) {
        riverDistance = Array(repeating: .infinity, count: cols * rows)
        burnRivers(rivers)
        distanceTransform()
    }

    func index(_ p: Coordinate) -> Int? {
        let c = Int((p.x - minX) / cell), r = Int((p.y - minY) / cell)
        guard c >= 0, c < cols, r >= 0, r < rows else { return nil }
        return r * cols + c
    }

    func countyIndex(at p: Coordinate) -> Int? {
        guard let i = index(p), county[i] >= 0 else { return nil }
        return Int(county[i])
    }

    func distanceToRiver(at p: Coordinate) -> Double {
        guard let i = index(p) else { return .infinity }
        return Double(riverDistance[i])
    }

    /// Even-odd scanline fill of each county, at cell centres.
    private mutating func fillCounties(_ counties: [[Polygon]]) {
        for (ci, polygons) in counties.enumerated() {
            let edges = polygons.flatMap { p in p.rings.flatMap { r in zip(r, r.dropFirst()).map { ($0, $1) } } }
            for row in 0..<rows {
                let y = minY + (Double(row) + 0.5) * cell
                var xs: [Double] = []
                for (a, b) in edges where (a.y <= y) != (b.y <= y) {
                    xs.append(a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x))
                }
                xs.sort()
                var k = 0
                while k + 1 < xs.count {
                    let c0 = max(0, Int(((xs[k] - minX) / cell - 0.5).rounded(.up)))
                    let c1 = min(cols - 1, Int(((xs[k + 1] - minX) / cell - 0.5).rounded(.down)))
                    if c0 <= c1 { for c in c0...c1 { county[row * cols + c] = Int8(ci) } }
                    k += 2
                }
            }
        }
    }

    private mutating func burnRivers(_ rivers: [[Coordinate]]) {
        for line in rivers {
            for (a, b) in zip(line, line.dropFirst()) {
                let n = max(1, Int(hypot(b.x - a.x, b.y - a.y) / (cell / 3)))
                for j in 0...n {
                    let f = Double(j) / Double(n)
                    if let i = index(Coordinate(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y))) { riverDistance[i] = 0 }
                }
            }
        }
    }

    /// Two-pass 3-4 chamfer distance transform.
    private mutating func distanceTransform() {
        let d1 = Float(cell), d2 = Float(cell * 1.4142)
        for r in 0..<rows {
            for c in 0..<cols {
                let i = r * cols + c
                var v = riverDistance[i]
                if c > 0 { v = min(v, riverDistance[i - 1] + d1) }
                if r > 0 {
                    v = min(v, riverDistance[i - cols] + d1)
                    if c > 0 { v = min(v, riverDistance[i - cols - 1] + d2) }
                    if c + 1 < cols { v = min(v, riverDistance[i - cols + 1] + d2) }
                }
                riverDistance[i] = v
            }
        }
        for r in stride(from: rows - 1, through: 0, by: -1) {
            for c in stride(from: cols - 1, through: 0, by: -1) {
                let i = r * cols + c
                var v = riverDistance[i]
                if c + 1 < cols { v = min(v, riverDistance[i + 1] + d1) }
                if r + 1 < rows {
                    v = min(v, riverDistance[i + cols] + d1)
                    if c + 1 < cols { v = min(v, riverDistance[i + cols + 1] + d2) }
                    if c > 0 { v = min(v, riverDistance[i + cols - 1] + d2) }
                }
                riverDistance[i] = v
            }
        }
    }
}
