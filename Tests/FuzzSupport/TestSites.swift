import Foundation
import GeoCore

/// Site shapes as projects bring them, seeded, for the tests of several targets: a road
/// corridor along a wandering line, and a ragged park with a hole.
public enum TestSites {
    /// A corridor `width` degrees wide along `steps` segments of `step` degrees from `start`.
    public static func corridor(from start: Coordinate, steps: Int, step: Double = 0.0004, width: Double, seed: UInt64) -> Polygon {
        var rng = FuzzRandom(seed: seed)
        var heading = 0.4, p = start
        var line = [p]
        for _ in 0..<steps {
            heading += rng.double(-0.2...0.2)
            p = Coordinate(p.x + step * cos(heading), p.y + step * sin(heading))
            line.append(p)
        }
        var left: [Coordinate] = [], right: [Coordinate] = []
        for (i, q) in line.enumerated() {
            let a = line[max(0, i - 1)], b = line[min(line.count - 1, i + 1)]
            let dx = b.x - a.x, dy = b.y - a.y, d = (dx * dx + dy * dy).squareRoot()
            left.append(Coordinate(q.x - dy / d * width / 2, q.y + dx / d * width / 2))
            right.append(Coordinate(q.x + dy / d * width / 2, q.y - dx / d * width / 2))
        }
        let ring = left + right.reversed()
        return Polygon([ring + [ring[0]]])
    }

    /// A 40-gon whose radius wanders between 0.7 and 1.3 × `radius`, with a 12-gon hole.
    public static func park(centre c: Coordinate, radius: Double, seed: UInt64) -> Polygon {
        var rng = FuzzRandom(seed: seed)
        var outer: [Coordinate] = [], hole: [Coordinate] = []
        for k in 0..<40 {
            let a = 2 * Double.pi * Double(k) / 40, r = radius * rng.double(0.7...1.3)
            outer.append(Coordinate(c.x + r * cos(a), c.y + r * sin(a)))
        }
        for k in 0..<12 {
            let a = -2 * Double.pi * Double(k) / 12
            hole.append(Coordinate(c.x + radius * 0.2 * cos(a), c.y + radius * 0.2 * sin(a)))
        }
        return Polygon([outer + [outer[0]], hole + [hole[0]]])
    }
}
