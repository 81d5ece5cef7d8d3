import GeoCore

/// One feature's geometry made ready for one tile: projected, clipped to the buffered tile,
/// simplified to the tile's resolution, snapped to the grid and encoded as MVT commands.
struct EncodedGeometry {
    var type: MVTGeometryType
    var commands: [UInt32]
    /// For polygons: the area drawn, in tile units².
    var area: Double
    /// Outlines a tile over its budget may simplify further; an overview's area box and
    /// points stay as they are.
    var outlines = false

    /// For polygons, the valid rings (exterior first) of each polygon; for lines, the lines:
    /// read back from the commands, which hold them exactly, for a tile over its budget to
    /// simplify further without reading the data again. Kept beside the commands, they were
    /// two more arrays for every feature of every tile, for the few tiles that simplify.
    var parts: [[[TilePoint]]] {
        var out: [[[TilePoint]]] = []
        var x: Int32 = 0, y: Int32 = 0
        var current: [TilePoint] = []
        var i = 0
        while i < commands.count {
            let id = commands[i] & 7, count = Int(commands[i] >> 3)
            i += 1
            if id == 7 {
                // A polygon's exterior is its only ring of positive area (clockwise on screen).
                if TileGeometry.twiceArea(current) > 0 || out.isEmpty { out.append([current]) } else { out[out.count - 1].append(current) }
                current = []
                continue
            }
            if id == 1, type == .lineString, current.count >= 2 {
                out.append([current])
                current = []
            }
            for _ in 0..<count {
                x &+= ProtobufWriter.unzigzag(commands[i])
                y &+= ProtobufWriter.unzigzag(commands[i + 1])
                i += 2
                current.append(TilePoint(x, y))
            }
        }
        if type == .lineString, current.count >= 2 { out.append([current]) }
        return out
    }

    /// The same shapes simplified with a coarser tolerance. Polygons that would turn invalid
    /// keep their current outline; polygons that collapse are left out.
    func simplified(tolerance: Double) -> EncodedGeometry {
        // Nothing to simplify (an overview's area box): it stays as it is.
        if !outlines { return self }
        var writer = MVTGeometryWriter()
        var drawn = 0.0
        for part in parts {
            switch type {
            case .polygon:
                var rings: [[TilePoint]] = []
                for (i, ring) in part.enumerated() {
                    let s = TileGeometry.snapRing(
                        TileGeometry.simplifyRing(ring.map { TileVertex(x: Double($0.x), y: Double($0.y)) }, tolerance: tolerance))
                    let a = s.isEmpty ? 0 : TileGeometry.twiceArea(s)
                    if i == 0 && a <= 0 { rings = []; break }
                    if i > 0 && a >= 0 { continue }
                    rings.append(s)
                }
                guard !rings.isEmpty else { continue }
                let polygon = TileGeometry.invalidRings(rings).isEmpty ? rings : part
                for r in polygon {
                    writer.ring(r)
                    drawn += Double(TileGeometry.twiceArea(r)) / 2
                }
            case .lineString:
                var out: [TilePoint] = []
                for p in TileGeometry.simplify(part[0].map { TileVertex(x: Double($0.x), y: Double($0.y)) }, tolerance: tolerance) {
                    let q = TileGeometry.snap(p)
                    if out.last != q { out.append(q) }
                }
                guard out.count >= 2 else { continue }
                writer.lineString(out)
            default:
                return self
            }
        }
        return EncodedGeometry(type: type, commands: writer.commands, area: drawn, outlines: true)
    }
}

/// What became of the polygons that did not survive snapping (too small, or beyond repair):
/// their area is given to the coverage cells so the tile still covers what the data covers.
struct LostArea {
    var area = 0.0
    var x = 0.0
    var y = 0.0
}

struct FeatureGeometryEncoder {
    let transform: TileTransform
    let extent: Double
    let buffer: Double
    let tolerance: Double
    /// GEOS, only for the rare polygon that snapping made invalid.
    private var engine: GeometryEngine?
    private(set) var repairs = 0
    private(set) var dropped = 0

    init(transform: TileTransform, buffer: Double, tolerance: Double) {
        self.transform = transform
        self.extent = Double(transform.extent)
        self.buffer = buffer
        self.tolerance = tolerance
    }

    var clipLow: Double { -buffer }
    var clipHigh: Double { extent + buffer }

    mutating func encode(_ g: Geometry, lost: inout LostArea) -> EncodedGeometry? {
        switch g {
        case .polygon, .multiPolygon:
            return polygons(g.polygons, lost: &lost)
        case .lineString, .multiLineString:
            return lines(g.lineStrings)
        case .point, .multiPoint:
            return points(g.points)
        case .collection(let parts):
            // Layers hold one type; a stray collection keeps its dominant dimension.
            if parts.contains(where: { $0.dimension == 2 }) { return polygons(g.polygons, lost: &lost) }
            if parts.contains(where: { $0.dimension == 1 }) { return lines(g.lineStrings) }
            return points(g.points)
        }
    }

    private func project(_ ring: [Coordinate], dropClosing: Bool) -> [TileVertex] {
        var out: [TileVertex] = []
        out.reserveCapacity(ring.count)
        for c in ring {
            let p = transform.apply(c.x, c.y)
            out.append(TileVertex(x: p.x, y: p.y))
        }
        if dropClosing, out.count > 1, let f = out.first, let l = out.last, f.x == l.x && f.y == l.y { out.removeLast() }
        return out
    }

    // MARK: Polygons

    mutating func polygons(_ polys: [Polygon], lost: inout LostArea) -> EncodedGeometry? {
        polygons(projected: projected(polys), lost: &lost)
    }

    /// Polygons in tile units, rings open, exterior first; those without a ring are left out.
    func projected(_ polys: [Polygon]) -> [[[TileVertex]]] {
        polys.compactMap { polygon -> [[TileVertex]]? in
            guard let exterior = polygon.rings.first, exterior.count >= 4 else { return nil }
            return polygon.rings.map { project($0, dropClosing: true) }
        }
    }

    /// Polygons already in tile units, rings open (no closing vertex), exterior first.
    mutating func polygons(projected: [[[TileVertex]]], lost: inout LostArea) -> EncodedGeometry? {
        var writer = MVTGeometryWriter()
        var area = 0.0
        var parts: [[[TilePoint]]] = []
        for polygon in projected {
            guard let outer = polygon.first, outer.count >= 3 else { continue }
            var rings = polygon
            var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
            for v in rings[0] {
                minX = min(minX, v.x); maxX = max(maxX, v.x)
                minY = min(minY, v.y); maxY = max(maxY, v.y)
            }
            if maxX < clipLow || minX > clipHigh || maxY < clipLow || minY > clipHigh { continue }
            if minX < clipLow || maxX > clipHigh || minY < clipLow || maxY > clipHigh {
                rings = rings.map { TileGeometry.clipRing($0, lo: clipLow, hi: clipHigh) }
                if rings[0].count < 3 { continue }
            }
            // What the data covers here, to account for it if the polygon does not survive.
            var trueArea = abs(TileGeometry.twiceArea(rings[0]))
            for h in rings.dropFirst() { trueArea -= abs(TileGeometry.twiceArea(h)) }
            trueArea = max(0, trueArea / 2)
            let cx = (minX + maxX) / 2, cy = (minY + maxY) / 2

            var snapped: [[TilePoint]] = []
            for (i, ring) in rings.enumerated() {
                let s = TileGeometry.snapRing(TileGeometry.simplifyRing(ring, tolerance: tolerance))
                if s.isEmpty {
                    if i == 0 { break } else { continue }
                }
                snapped.append(s)
            }
            guard let exterior = snapped.first, rings[0].count >= 3, !exterior.isEmpty else {
                account(&lost, trueArea, cx, cy)
                continue
            }
            let pieces = validPolygons(snapped)
            if pieces.isEmpty {
                dropped += 1
                account(&lost, trueArea, cx, cy)
                continue
            }
            parts += pieces
        }
        // The polygons of one feature must not overlap once snapped (nor a repair's slivers
        // lie on their neighbours): the largest are kept, any that meets them is left out.
        if parts.count > 1 { parts = TileGeometry.disjoint(parts) }
        for piece in parts {
            for ring in piece {
                writer.ring(ring)
                area += Double(TileGeometry.twiceArea(ring)) / 2  // holes count negative
            }
        }
        guard !writer.isEmpty else { return nil }
        return EncodedGeometry(type: .polygon, commands: writer.commands, area: area, outlines: true)
    }

    private func account(_ lost: inout LostArea, _ area: Double, _ x: Double, _ y: Double) {
        guard area > 0 else { return }
        let total = lost.area + area
        lost.x = (lost.x * lost.area + x * area) / total
        lost.y = (lost.y * lost.area + y * area) / total
        lost.area = total
    }

    /// Orients the rings (exterior positive, holes negative) and returns valid polygons:
    /// holes that cross or touch are dropped (a hole that small at this zoom is invisible);
    /// an exterior that does is repaired with GEOS MakeValid and snapped again.
    private mutating func validPolygons(_ input: [[TilePoint]], repairing: Bool = true) -> [[[TilePoint]]] {
        var rings = input
        for i in rings.indices {
            let a = TileGeometry.twiceArea(rings[i])
            if a == 0 {
                if i == 0 { return [] }
                rings[i] = []
                continue
            }
            if (i == 0) != (a > 0) { rings[i].reverse() }
        }
        if rings.count > 1 { rings = [rings[0]] + rings.dropFirst().filter { !$0.isEmpty } }
        let bad = TileGeometry.invalidRings(rings)
        if bad.isEmpty { return [rings] }
        if !bad.contains(0) {
            return [[rings[0]] + rings.indices.dropFirst().filter { !bad.contains($0) }.map { rings[$0] }]
        }
        guard repairing else { return [] }
        repairs += 1
        if engine == nil { engine = GeometryEngine() }
        guard let engine else { return [] }
        let polygon = Polygon(
            rings.map { ring in
                ring.map { Coordinate(Double($0.x), Double($0.y)) } + [Coordinate(Double(ring[0].x), Double(ring[0].y))]
            })
        guard let fixed = try? engine.makeValid(try engine.make(.polygon(polygon))).value() else { return [] }
        var out: [[[TilePoint]]] = []
        for p in fixed.polygons {
            let snapped = p.rings.map { ring in
                TileGeometry.snapRing(ring.dropLast().map { TileVertex(x: $0.x, y: $0.y) })
            }
            guard let ext = snapped.first, !ext.isEmpty else { continue }
            out += validPolygons([ext] + snapped.dropFirst().filter { !$0.isEmpty }, repairing: false)
        }
        return out
    }

    // MARK: Lines and points

    mutating func lines(_ lines: [[Coordinate]]) -> EncodedGeometry? {
        self.lines(projected: lines.filter { $0.count >= 2 }.map { project($0, dropClosing: false) })
    }

    /// Lines already in tile units.
    mutating func lines(projected lines: [[TileVertex]]) -> EncodedGeometry? {
        var writer = MVTGeometryWriter()
        for projected in lines where projected.count >= 2 {
            var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
            for v in projected {
                minX = min(minX, v.x); maxX = max(maxX, v.x)
                minY = min(minY, v.y); maxY = max(maxY, v.y)
            }
            if maxX < clipLow || minX > clipHigh || maxY < clipLow || minY > clipHigh { continue }
            let parts =
                (minX < clipLow || maxX > clipHigh || minY < clipLow || maxY > clipHigh)
                ? TileGeometry.clipLine(projected, lo: clipLow, hi: clipHigh) : [projected]
            for part in parts {
                var out: [TilePoint] = []
                for v in TileGeometry.simplify(part, tolerance: tolerance) {
                    let p = TileGeometry.snap(v)
                    if out.last != p { out.append(p) }
                }
                if out.count >= 2 { writer.lineString(out) }
            }
        }
        guard !writer.isEmpty else { return nil }
        return EncodedGeometry(type: .lineString, commands: writer.commands, area: 0, outlines: true)
    }

    mutating func points(_ points: [Coordinate]) -> EncodedGeometry? {
        self.points(
            projected: points.map { c in
                let p = transform.apply(c.x, c.y)
                return TileVertex(x: p.x, y: p.y)
            })
    }

    /// Points already in tile units.
    mutating func points(projected points: [TileVertex]) -> EncodedGeometry? {
        var out: [TilePoint] = []
        var seen = Set<TilePoint>()
        for p in points {
            guard p.x >= clipLow, p.x <= clipHigh, p.y >= clipLow, p.y <= clipHigh else { continue }
            let s = TileGeometry.snap(TileVertex(x: p.x, y: p.y))
            if seen.insert(s).inserted { out.append(s) }
        }
        guard !out.isEmpty else { return nil }
        var writer = MVTGeometryWriter()
        writer.points(out)
        return EncodedGeometry(type: .point, commands: writer.commands, area: 0)
    }
}
