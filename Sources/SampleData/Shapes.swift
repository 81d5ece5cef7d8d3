import Foundation
import GeoCore

/// Believable natural shapes, in projected metres.
enum Shapes {
    /// A closed, simple, star-shaped ring around `centre`: the radius wobbles with a few
    /// low harmonics, like a ridge or a river basin seen from above. Angles strictly increase,
    /// so the ring never crosses itself.
    static func blob(
        centre: Coordinate, radius: Double, vertices: Int, roughness: Double = 0.12,
        rng: inout SeededRandom
    ) -> [Coordinate] {
        var harmonics: [(Double, Double)] = []
        for _ in 2...5 { harmonics.append((rng.range(0, roughness), rng.range(0, 2 * .pi))) }
        var ring: [Coordinate] = []
        for i in 0..<vertices {
            let t = 2 * Double.pi * Double(i) / Double(vertices)
            var r = 1.0
            for (k, h) in harmonics.enumerated() { r += h.0 * sin(Double(k + 2) * t + h.1) }
            r *= radius * rng.range(0.97, 1.03)
            ring.append(Coordinate(centre.x + r * cos(t), centre.y + r * sin(t)))
        }
        ring.append(ring[0])
        return ring
    }

    /// A polyline made wavy: densified to `step` metres and pushed sideways by smooth noise.
    static func meander(_ path: [Coordinate], step: Double, amplitude: Double, rng: inout SeededRandom) -> [Coordinate] {
        guard path.count > 1 else { return path }
        let phase1 = rng.range(0, 2 * .pi), phase2 = rng.range(0, 2 * .pi)
        let wave1 = rng.range(3000, 6000), wave2 = rng.range(900, 1800)
        var out: [Coordinate] = []
        var travelled = 0.0
        for i in 1..<path.count {
            let a = path[i - 1], b = path[i]
            let dx = b.x - a.x, dy = b.y - a.y
            let len = (dx * dx + dy * dy).squareRoot()
            let n = max(1, Int(len / step))
            for j in 0..<n {
                let f = Double(j) / Double(n)
                let s = travelled + f * len
                // Fade the wiggle out at both ends so the line still meets its anchors.
                let fade = min(1, min(s, totalLength(path) - s) / 2000)
                let off = fade * amplitude * (0.7 * sin(s / wave1 * 2 * .pi + phase1) + 0.3 * sin(s / wave2 * 2 * .pi + phase2))
                out.append(Coordinate(a.x + f * dx - off * dy / len, a.y + f * dy + off * dx / len))
            }
            travelled += len
        }
        out.append(path[path.count - 1])
        return out
    }

    static func totalLength(_ path: [Coordinate]) -> Double {
        zip(path, path.dropFirst()).reduce(0) { $0 + hypot($1.1.x - $1.0.x, $1.1.y - $1.0.y) }
    }

    static func distance(_ p: Coordinate, toSegment a: Coordinate, _ b: Coordinate) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        let l2 = dx * dx + dy * dy
        let t = l2 == 0 ? 0 : max(0, min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / l2))
        return hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy))
    }

    static func distance(_ p: Coordinate, toPolyline line: [Coordinate]) -> Double {
        var d = Double.infinity
        for (a, b) in zip(line, line.dropFirst()) { d = min(d, distance(p, toSegment: a, b)) }
        return d
    }

    static func rectangle(_ cx: Double, _ cy: Double, _ w: Double, _ h: Double, angle: Double = 0) -> [Coordinate] {
        let c = cos(angle), s = sin(angle)
        let corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2), (-w / 2, -h / 2)]
        return corners.map { Coordinate(cx + $0.0 * c - $0.1 * s, cy + $0.0 * s + $0.1 * c) }
    }
}
