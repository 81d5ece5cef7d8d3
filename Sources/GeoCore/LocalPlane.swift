import Foundation

/// A tangent-plane approximation of the ellipsoid around one point: metres east and north.
///
/// Across a site (a few kilometres) it is accurate to about 1e-4 relative, which is plenty for
/// choosing nearest points and drawing buffers of a few metres; final distances are then
/// measured geodesically. It costs a multiply per coordinate, where a PROJ object costs
/// milliseconds to create: that matters when every check needs one.
public struct LocalPlane: Sendable {
    public let origin: Coordinate
    let metresPerDegreeX: Double
    let metresPerDegreeY: Double

    public init(origin: Coordinate, ellipsoid: Ellipsoid = .cgcs2000) {
        self.origin = origin
        let a = ellipsoid.semiMajorAxis, f = ellipsoid.flattening
        let e2 = f * (2 - f)
        let phi = origin.y * .pi / 180
        let w = (1 - e2 * sin(phi) * sin(phi)).squareRoot()
        let n = a / w  // prime-vertical radius of curvature
        let m = a * (1 - e2) / (w * w * w)  // meridional radius of curvature
        metresPerDegreeX = n * cos(phi) * .pi / 180
        metresPerDegreeY = m * .pi / 180
    }

    public func toPlane(_ c: Coordinate) -> Coordinate {
        Coordinate((c.x - origin.x) * metresPerDegreeX, (c.y - origin.y) * metresPerDegreeY)
    }

    public func toLonLat(_ p: Coordinate) -> Coordinate {
        Coordinate(origin.x + p.x / metresPerDegreeX, origin.y + p.y / metresPerDegreeY)
    }

    public func toPlane(_ g: Geometry) -> Geometry { g.mapSequences { $0.map(toPlane) } }
    public func toLonLat(_ g: Geometry) -> Geometry { g.mapSequences { $0.map(toLonLat) } }

    /// Degrees of longitude and latitude that cover at least `metres` around the origin.
    public func degrees(forMetres metres: Double) -> (lon: Double, lat: Double) {
        (metres / metresPerDegreeX * 1.01, metres / metresPerDegreeY * 1.01)
    }
}
