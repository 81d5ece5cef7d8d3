import Foundation

/// The ellipsoidal Lambert azimuthal equal-area projection (Snyder, "Map Projections: A Working
/// Manual", 1987, pp. 187–188: oblique aspect through the authalic latitude) centred on one
/// point: metres east and north in which every area is the ellipsoid's area exactly.
///
/// Why: a conflict check measures a few clipped pieces per site. Karney's polygon area costs a
/// geodesic inverse per edge; here each vertex costs one projection and the area is the planar
/// shoelace, about a tenth of the work.
///
/// The one difference from a geodesic polygon is the edges: straight in the projection, not
/// geodesics. Against GeographicLib, a geodesic of length L bows away from the straight line
/// by an area of up to 3.8e-11·L³ m² (2.4e-3 m² for a 400 m edge; measured, and it is
/// e²·sinφ·cosφ/(12a)·L²·Δx for an edge going Δx metres east, wherever it lies near the
/// centre). That term is added back per edge (`bowPerCubicMetre`); what remains, for pieces
/// up to 600 m across within a kilometre of the centre, is ~1e-4 m² at worst and usually
/// below GeographicLib's own rounding (its area of a 20 m polygon moves by ~3e-5 m² when its
/// edges are split). So it is for pieces of a site: `area(_:spanLimitM:)` refuses anything
/// wider, and stored feature areas, ledger totals and anything else with long edges stay with
/// `Ellipsoid` (Karney), whose edges are true geodesics at any length.
public struct EqualAreaPlane: Sendable {
    public let centre: Coordinate
    private let e: Double, e2: Double
    /// q at the pole (Snyder 3-12 with φ = 90°), and the radius of the authalic sphere.
    private let qp: Double, rq: Double, inverseQp: Double
    /// sin and cos of the centre's authalic latitude, and Snyder's D (24-20).
    private let sinB1: Double, cosB1: Double, d: Double, inverseD: Double
    private let lon0: Double
    /// The centre's latitude in radians, with its sine and cosine: a vertex's sine of latitude
    /// is then that of a small angle away (see `project`).
    private let phi0: Double, sinPhi0: Double, cosPhi0: Double
    /// The bow of a geodesic against the straight line, per metre² of length per metre east
    /// (see above); taken at the centre's latitude, which across a site changes it by < 1e-3.
    private let bowPerCubicMetre: Double

    public init(centre: Coordinate, ellipsoid: Ellipsoid = .cgcs2000) {
        self.centre = centre
        let a = ellipsoid.semiMajorAxis, f = ellipsoid.flattening
        e2 = f * (2 - f)
        e = e2.squareRoot()
        qp = Self.q(sinPhi: 1, e: e, e2: e2)
        inverseQp = 1 / qp
        rq = a * (qp / 2).squareRoot()
        let phi1 = centre.y * .pi / 180
        let s1 = sin(phi1)
        phi0 = phi1; sinPhi0 = s1; cosPhi0 = cos(phi1)
        sinB1 = Self.q(sinPhi: s1, e: e, e2: e2) / qp
        cosB1 = (1 - sinB1 * sinB1).squareRoot()
        let m1 = cos(phi1) / (1 - e2 * s1 * s1).squareRoot()
        d = a * m1 / (rq * cosB1)
        inverseD = 1 / d
        lon0 = centre.x * .pi / 180
        bowPerCubicMetre = e2 * s1 * cos(phi1) / (12 * a)
    }

    /// Snyder 3-12: q(φ), from which the authalic latitude is asin(q / qp); its
    /// −ln((1 − x)/(1 + x))/2 is atanh(x), which keeps the last bits the quotient would round.
    @inline(__always) private static func q(sinPhi s: Double, e: Double, e2: Double) -> Double {
        (1 - e2) * (s / (1 - e2 * s * s) + atanh(e * s) / e)
    }

    /// The same q with atanh as its series: atanh(x) = x + x³/3 + x⁵/5 + … for x = e·sin φ,
    /// |x| ≤ e < 0.082, so x² < 0.0067 and the terms to x¹⁹ leave less than 1e-20 of it: the
    /// same value to the last bits, for a dozen multiplications instead of a call to `atanh`.
    @inline(__always) private static func qSeries(sinPhi s: Double, e: Double, e2: Double) -> Double {
        let x = e * s, x2 = x * x
        var sum = 1.0 / 19
        sum = sum * x2 + 1.0 / 17; sum = sum * x2 + 1.0 / 15; sum = sum * x2 + 1.0 / 13; sum = sum * x2 + 1.0 / 11
        sum = sum * x2 + 1.0 / 9; sum = sum * x2 + 1.0 / 7; sum = sum * x2 + 1.0 / 5; sum = sum * x2 + 1.0 / 3
        sum = sum * x2 + 1
        // atanh(x)/e = x·sum/e = s·sum.
        return (1 - e2) * (s / (1 - e2 * s * s) + s * sum)
    }

    /// sin and cos of a small angle (|a| ≤ `smallAngle`) by their Taylor series: the first
    /// term left out is below 1e-21 of 1, so they equal the library's to rounding. Written
    /// with products by constant reciprocals: a division costs several multiplications.
    @inline(__always) private static func sinCosSmall(_ a: Double) -> (sin: Double, cos: Double) {
        let a2 = a * a
        let s = a * (1 - a2 * (1.0 / 6) * (1 - a2 * (1.0 / 20) * (1 - a2 * (1.0 / 42) * (1 - a2 * (1.0 / 72)))))
        let c = 1 - a2 * 0.5 * (1 - a2 * (1.0 / 12) * (1 - a2 * (1.0 / 30) * (1 - a2 * (1.0 / 56) * (1 - a2 * (1.0 / 90)))))
        return (s, c)
    }

    /// Angles up to this (radians, about 130 km on the ground) are small for `sinCosSmall`.
    static let smallAngle = 0.02

    /// Metres east and north of the centre (Snyder 24-18, 24-19, 24-19a).
    ///
    /// Why not `sin`, `cos` and `atanh`: a check projects every vertex of every piece it
    /// measures, and four library calls a vertex would weigh on every check. Near the centre (where
    /// this plane is used: within `smallAngle`) the latitude's sine is the centre's turned by
    /// a small angle, the longitude's sine and cosine are those of a small angle, and q's
    /// atanh is a short series, all exact to rounding (EqualAreaPlaneTests compare them).
    public func project(_ c: Coordinate) -> Coordinate {
        let dPhi = c.y * Self.radiansPerDegree - phi0
        let dl = c.x * Self.radiansPerDegree - lon0
        guard abs(dPhi) <= Self.smallAngle, abs(dl) <= Self.smallAngle else { return projectFar(c) }
        let turn = Self.sinCosSmall(dPhi), along = Self.sinCosSmall(dl)
        let sinB = Self.qSeries(sinPhi: sinPhi0 * turn.cos + cosPhi0 * turn.sin, e: e, e2: e2) * inverseQp
        return projected(sinB: sinB, sinDl: along.sin, cosDl: along.cos)
    }

    /// `project` by the library's functions, for any point: the reference the series are held to.
    func projectFar(_ c: Coordinate) -> Coordinate {
        let sinB = Self.q(sinPhi: sin(c.y * .pi / 180), e: e, e2: e2) / qp
        let dl = c.x * .pi / 180 - lon0
        return projected(sinB: sinB, sinDl: sin(dl), cosDl: cos(dl))
    }

    @inline(__always) private func projected(sinB: Double, sinDl: Double, cosDl: Double) -> Coordinate {
        let cosB = (1 - sinB * sinB).squareRoot()
        let b = rq * (2 / (1 + sinB1 * sinB + cosB1 * cosB * cosDl)).squareRoot()
        return Coordinate(b * d * cosB * sinDl, b * inverseD * (cosB1 * sinB - sinB1 * cosB * cosDl))
    }

    private static let radiansPerDegree = Double.pi / 180

    /// One edge's share of a ring's signed area, for two points already projected: a ring's
    /// area is the sum over its edges, so the area of an overlap can be summed along its
    /// boundary without building the polygon (see `PolygonRegion.overlapArea`).
    @inline(__always) public func edgeTerm(_ p: Coordinate, _ q: Coordinate) -> Double {
        let dx = q.x - p.x, dy = q.y - p.y
        return (p.x * q.y - q.x * p.y) / 2 - bowPerCubicMetre * (dx * dx + dy * dy) * dx
    }

    /// Signed area of a ring with geodesic edges (counter-clockwise positive; closure
    /// implicit): the shoelace in the projection corrected by each edge's bow, or nil when the ring
    /// spans more than `spanLimit` metres in either direction.
    private func ringArea(_ ring: [Coordinate], spanLimit: Double, edgeLimit: Double) -> Double? {
        var n = ring.count
        if n > 1 && ring[0] == ring[n - 1] { n -= 1 }
        guard n >= 3 else { return 0 }
        let first = project(ring[0])
        var minX = first.x, maxX = first.x, minY = first.y, maxY = first.y
        var previous = first
        var twice = 0.0, bows = 0.0, longest = 0.0
        func edge(_ p: Coordinate, _ q: Coordinate) {
            twice += p.x * q.y - q.x * p.y
            let dx = q.x - p.x, dy = q.y - p.y
            let squared = dx * dx + dy * dy
            bows += squared * dx
            longest = max(longest, squared)
        }
        for i in 1..<n {
            let p = project(ring[i])
            edge(previous, p)
            minX = min(minX, p.x); maxX = max(maxX, p.x); minY = min(minY, p.y); maxY = max(maxY, p.y)
            previous = p
        }
        edge(previous, first)
        guard maxX - minX <= spanLimit, maxY - minY <= spanLimit, longest <= edgeLimit * edgeLimit else { return nil }
        return twice / 2 - bowPerCubicMetre * bows
    }

    /// Area in m² of the polygons of a geometry (0 for points and lines), each exterior less
    /// its holes; nil when a ring spans more than `spanLimitM` metres east–west or north–south,
    /// where straight edges in the projection would drift from geodesic ones: measure those
    /// with `Ellipsoid` instead.
    ///
    /// `edgeLimitM`, when given, refuses a ring with a longer edge: away from the centre a
    /// geodesic's image curves, and the area between it and the straight edge grows with the
    /// distance and the cube of the edge's length. Edges up to 150 m keep a polygon 30 km
    /// across within ~1e-3 m² of GeographicLib (see `siteArea`).
    public func area(_ geometry: Geometry, spanLimitM: Double, edgeLimitM: Double = .infinity) -> Double? {
        var total = 0.0
        for polygon in geometry.polygons {
            let rings = polygon.rings
            if rings.isEmpty { continue }
            guard let outer = ringArea(rings[0], spanLimit: spanLimitM, edgeLimit: edgeLimitM) else { return nil }
            var a = abs(outer)
            for hole in rings.dropFirst() {
                guard let h = ringArea(hole, spanLimit: spanLimitM, edgeLimit: edgeLimitM) else { return nil }
                a -= abs(h)
            }
            total += a
        }
        return total
    }

    /// The ellipsoidal area of a site (a project's red line): in the plane centred on its box
    /// when it is at most 60 km across with no edge over 150 m (house plots, parks, the
    /// digitised corridors of roads and pipelines), else Karney's geodesic polygon area.
    ///
    /// Why: Karney's area costs a geodesic inverse per edge, half a millisecond for a 1,000-
    /// vertex corridor, on every check of it over HTTP; a projection per vertex costs a tenth
    /// of that. Within these limits the two agree to
    /// ~1e-3 m² (EqualAreaPlaneTests, on corridors 30 km long), far inside the 1e-6 relative
    /// that areas are held to.
    public static func siteArea(_ geometry: Geometry, ellipsoid: Ellipsoid = .cgcs2000) -> Double {
        guard let box = geometry.boundingBox else { return 0 }
        let plane = EqualAreaPlane(centre: Coordinate((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2), ellipsoid: ellipsoid)
        return plane.area(geometry, spanLimitM: siteSpanLimitM, edgeLimitM: siteEdgeLimitM) ?? ellipsoid.area(geometry)
    }

    public static let siteSpanLimitM = 60_000.0
    public static let siteEdgeLimitM = 150.0
}
