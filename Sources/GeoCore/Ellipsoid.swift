import CPROJ

/// Measures on an ellipsoid with Karney's geodesic algorithms (PROJ's copy of GeographicLib),
/// which are accurate to nanometres: this is how China's land surveys report 图斑 areas.
public struct Ellipsoid: Sendable {
    public let semiMajorAxis: Double
    public let flattening: Double
    private let geod: geod_geodesic

    /// CGCS2000. Its ellipsoid differs from GRS80 only in the 11th digit of the flattening
    /// (298.257222101 for both, by definition of a, GM, J2 and ω): the same areas to < 1e-9.
    public static let cgcs2000 = Ellipsoid(semiMajorAxis: 6_378_137, inverseFlattening: 298.257222101)
    public static let wgs84 = Ellipsoid(semiMajorAxis: 6_378_137, inverseFlattening: 298.257223563)

    public init(semiMajorAxis: Double, inverseFlattening: Double) {
        self.semiMajorAxis = semiMajorAxis
        self.flattening = 1 / inverseFlattening
        var g = geod_geodesic()
        geod_init(&g, semiMajorAxis, flattening)
        geod = g
    }

    /// Area in m² of a ring of lon/lat degrees, unsigned. Closure is implicit.
    public func ringArea(_ ring: [Coordinate]) -> Double {
        var n = ring.count
        if n > 1 && ring[0] == ring[n - 1] { n -= 1 }
        guard n >= 3 else { return 0 }
        var g = geod
        var p = geod_polygon()
        geod_polygon_init(&p, 0)
        for i in 0..<n { geod_polygon_addpoint(&g, &p, ring[i].y, ring[i].x) }
        var area = 0.0
        _ = geod_polygon_compute(&g, &p, 0, 1, &area, nil)
        return abs(area)
    }

    /// Area in m² of a polygon: its exterior less its holes.
    public func area(_ polygon: Polygon) -> Double {
        guard !polygon.rings.isEmpty else { return 0 }
        var a = ringArea(polygon.exterior)
        for h in polygon.holes { a -= ringArea(h) }
        return a
    }

    /// Area in m² of any geometry (0 for points and lines).
    public func area(_ geometry: Geometry) -> Double {
        geometry.polygons.reduce(0) { $0 + area($1) }
    }

    /// Geodesic distance in metres between two lon/lat points.
    public func distance(_ a: Coordinate, _ b: Coordinate) -> Double {
        var g = geod
        var s12 = 0.0
        geod_inverse(&g, a.y, a.x, b.y, b.x, &s12, nil, nil)
        return s12
    }

    /// Geodesic length in metres of a line of lon/lat points.
    public func length(_ line: [Coordinate]) -> Double {
        guard line.count > 1 else { return 0 }
        var total = 0.0
        for i in 1..<line.count { total += distance(line[i - 1], line[i]) }
        return total
    }

    /// Length in metres of the lines of a geometry (0 for points and polygons).
    public func length(_ geometry: Geometry) -> Double {
        geometry.lineStrings.reduce(0) { $0 + length($1) }
    }
}

/// The units planners report in.
public enum AreaUnit {
    /// 1 亩 = 10000/15 m².
    public static func mu(fromM2 m2: Double) -> Double { m2 * 15 / 10_000 }
    /// 1 公顷 = 10000 m².
    public static func hectares(fromM2 m2: Double) -> Double { m2 / 10_000 }
}
