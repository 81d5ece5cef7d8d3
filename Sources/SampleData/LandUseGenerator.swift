import Foundation
import GeoCore

/// A wall-to-wall 三调 地类图斑 layer (DLTB) over a window of the city, in projected metres:
/// every point of the window inside the city lies in exactly one 图斑.
///
/// The 图斑 are the cells of a jittered grid: each grid vertex is moved by up to 30% of a cell
/// from its place, by a hash of its indices, and shared by the four cells around it, so the
/// quadrilaterals tile the window with no gap and no overlap, and any cell can be made on its
/// own (millions stream with flat memory). One cell in six is split along a diagonal inside it
/// into two 图斑. Cells on a county's edge are cut by the county's exact boundary, one 图斑 per county.
///
/// The 地类 follows the terrain as in Lishui: built-up land around the county seats, water on
/// the rivers, 耕地 with 宅基地, roads and ponds in the valleys (where the farmland is), and 林地
/// (with 竹林, tea gardens and scrub) on the mountains, which cover most of the city. 耕地 carry
/// a 田坎 deduction (KCDLBM 1203, KCXS per county as 三调 sets it by slope).
struct LandUseGenerator {
    struct Tuban {
        let polygon: Polygon
        let county: Int
        let code: String
        let name: String
        /// 0 for land without a deduction.
        let deductRatio: Double
        /// Township (3 digits) and village (3 digits) within the county, from the place.
        let township: Int
        let village: Int
    }

    let terrain: Terrain
    let seed: UInt64
    /// The county seats, projected, with the radius of their built-up land.
    let towns: [(Coordinate, Double)]
    /// How far from a river the valley floor (and its 耕地) reaches.
    let reach: Double
    let window: BoundingBox
    let cell: Double
    let counties: [(polygon: EngineGeometry, prepared: PreparedGeometry)]
    let engine: GeometryEngine

    var columns: Int { Int(((window.maxX - window.minX) / cell).rounded(.up)) }
    var rows: Int { Int(((window.maxY - window.minY) / cell).rounded(.up)) }

    /// Grid vertex (i, j): moved by the hash unless it is on the window's edge, which stays straight.
    func vertex(_ i: Int, _ j: Int) -> Coordinate {
        let x = window.minX + Double(i) * cell, y = window.minY + Double(j) * cell
        guard i > 0, j > 0, i < columns, j < rows else { return Coordinate(min(x, window.maxX), min(y, window.maxY)) }
        let dx = (SeededRandom.unit(SeededRandom.hash(seed, i, j, 0x7A01)) - 0.5) * 0.6 * cell
        let dy = (SeededRandom.unit(SeededRandom.hash(seed, i, j, 0x7A02)) - 0.5) * 0.6 * cell
        return Coordinate(x + dx, y + dy)
    }

    /// Calls `emit` with every 图斑, row by row.
    func generate(_ emit: (Tuban) throws -> Void) throws {
        for j in 0..<rows {
            for i in 0..<columns {
                let a = vertex(i, j), b = vertex(i + 1, j), c = vertex(i + 1, j + 1), d = vertex(i, j + 1)
                let split = SeededRandom.hash(seed, i, j, 0x7A03) % 6 == 0
                let shapes = split ? Self.triangles(a, b, c, d) : [[a, b, c, d, a]]
                for (k, ring) in shapes.enumerated() {
                    for (county, polygon) in try pieces(Polygon([ring])) {
                        try emit(classify(polygon, county: county, salt: i &* 7 &+ k))
                    }
                }
            }
        }
    }

    /// A cell split in two along a diagonal inside it. A jittered cell can be concave, and then
    /// one diagonal runs outside it: the triangles along it would overlap a neighbour and leave
    /// part of the cell bare (`onemap topology` found 64 such overlaps in 2.35M 图斑).
    static func triangles(_ a: Coordinate, _ b: Coordinate, _ c: Coordinate, _ d: Coordinate) -> [[Coordinate]] {
        func turn(_ p: Coordinate, _ q: Coordinate, _ r: Coordinate) -> Double { (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x) }
        // Along a–c when b and d lie on either side of it, else along b–d.
        if (turn(a, c, b) < 0) != (turn(a, c, d) < 0) { return [[a, b, c, a], [a, c, d, a]] }
        return [[a, b, d, a], [b, c, d, b]]
    }

    /// The cell's parts in each county: the cell itself when one county holds it whole.
    func pieces(_ p: Polygon) throws -> [(Int, Polygon)] {
        let centre = Self.centroid(p.exterior)
        if let c = terrain.countyIndex(at: centre), c < counties.count {
            let g = try engine.make(.polygon(p))
            if try counties[c].prepared.containsProperly(g) { return [(c, p)] }
        }
        let g = try engine.make(.polygon(p))
        var out: [(Int, Polygon)] = []
        for (c, county) in counties.enumerated() where try county.prepared.intersects(g) {
            for part in try county.polygon.intersection(g).value().polygons where Self.planarArea(part.exterior) > 1 {
                out.append((c, part))
            }
        }
        return out
    }

    func classify(_ p: Polygon, county: Int, salt: Int) -> Tuban {
        let at = Self.centroid(p.exterior)
        let u = SeededRandom.unit(SeededRandom.hash(seed, Int(at.x.rounded()), Int(at.y.rounded()), 0x7A04 ^ UInt64(salt & 0xFF)))
        let river = terrain.distanceToRiver(at: at)
        let town = towns.map { hypot($0.0.x - at.x, $0.0.y - at.y) / $0.1 }.min() ?? .infinity
        let pick: (String, String)
        // Built-up land within 55% of a seat's radius: where the farmland generator stops
        // too, so 永久基本农田 lies on valley land here, not on a town's streets.
        if town < 0.55 {
            pick = Self.pick(u, Self.builtUp)
        } else if river < 40 {
            pick = ("1101", "河流水面")
        } else if river < reach * (town < 1.6 ? 1.3 : 1) {
            pick = Self.pick(u, Self.valley)
        } else {
            pick = Self.pick(u, Self.mountain)
        }
        let cultivated = pick.0.hasPrefix("01")
        // 三调 sets the 田坎系数 per county and slope class: a county's figure, a little more
        // for 旱地 on slopes.
        let ratio = cultivated ? 0.04 + 0.01 * Double(county % 5) + (pick.0 == "0103" ? 0.05 : 0) : 0
        let townships = 12
        let township = 1 + Int(((at.x - window.minX) / max(1, window.maxX - window.minX)) * Double(townships - 1))
        let village = 1 + Int(((at.y - window.minY) / max(1, window.maxY - window.minY)) * 19)
        return Tuban(polygon: p, county: county, code: pick.0, name: pick.1, deductRatio: ratio, township: township, village: village)
    }

    /// Shares add up to 1, by cumulative weight.
    static func pick(_ u: Double, _ table: [(String, String, Double)]) -> (String, String) {
        var acc = 0.0
        for (code, name, w) in table {
            acc += w
            if u < acc { return (code, name) }
        }
        return (table.last!.0, table.last!.1)
    }

    static let builtUp: [(String, String, Double)] = [
        ("0701", "城镇住宅用地", 0.38), ("05H1", "商业服务业设施用地", 0.14), ("0601", "工业用地", 0.12),
        ("1004", "城镇村道路用地", 0.10), ("08H2", "科教文卫用地", 0.07), ("0810", "公园与绿地", 0.05),
        ("08H1", "机关团体新闻出版用地", 0.03), ("0809", "公用设施用地", 0.03), ("0508", "物流仓储用地", 0.03),
        ("1201", "空闲地", 0.02), ("0101", "水田", 0.03)
    ]
    static let valley: [(String, String, Double)] = [
        ("0101", "水田", 0.46), ("0103", "旱地", 0.12), ("0102", "水浇地", 0.04), ("0702", "农村宅基地", 0.09),
        ("1006", "农村道路", 0.05), ("1104", "坑塘水面", 0.03), ("1107", "沟渠", 0.02), ("0201", "果园", 0.05),
        ("0202", "茶园", 0.04), ("1202", "设施农用地", 0.02), ("0301", "乔木林地", 0.05), ("1003", "公路用地", 0.02),
        ("0404", "其他草地", 0.01)
    ]
    static let mountain: [(String, String, Double)] = [
        ("0301", "乔木林地", 0.64), ("0302", "竹林地", 0.15), ("0305", "灌木林地", 0.06), ("0307", "其他林地", 0.04),
        ("0202", "茶园", 0.04), ("0404", "其他草地", 0.02), ("0103", "旱地", 0.02), ("1207", "裸岩石砾地", 0.01),
        ("1006", "农村道路", 0.01), ("0702", "农村宅基地", 0.01)
    ]

    static func centroid(_ ring: [Coordinate]) -> Coordinate {
        let pts = ring.dropLast()
        return Coordinate(pts.map(\.x).reduce(0, +) / Double(pts.count), pts.map(\.y).reduce(0, +) / Double(pts.count))
    }

    static func planarArea(_ ring: [Coordinate]) -> Double {
        abs(zip(ring, ring.dropFirst()).reduce(0) { $0 + $1.0.x * $1.1.y - $1.1.x * $1.0.y }) / 2
    }
}
