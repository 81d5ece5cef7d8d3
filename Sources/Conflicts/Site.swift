import Foundation
import GeoCore

/// A proposed project's footprint (项目用地红线): one MultiPolygon in CGCS2000 lon/lat,
/// the union of everything the input held.
public struct Site: Sendable {
    public var geometry: Geometry
    public var areaM2: Double
    public var bbox: BoundingBox
    /// The parcels a 部标 TXT declared, for the report.
    public var parcels: [SurveyParcel]
    public var warnings: [String]
    public var vertexCount: Int { geometry.coordinateCount }
}

/// Bad site input. `status` is the HTTP status it deserves; the message says where.
public struct SiteError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case malformed, invalid, tooLarge }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}

public struct SiteLimits: Sendable {
    public var maxVertices: Int
    /// The one default for the command line and the server (`--max-vertices` in both).
    public static let defaultMaxVertices = 200_000
    public init(maxVertices: Int = defaultMaxVertices) { self.maxVertices = maxVertices }
}

extension Site {
    static let storageCRS = "EPSG:4490"
    /// CRSs that are CGCS2000 lon/lat for a site's purposes: WGS 84 differs by centimetres.
    static let lonLatCRSs: Set<String> = ["EPSG:4490", "EPSG:4326", "OGC:CRS84", "CRS84", "EPSG:4610"]

    /// Builds a site from polygons in `crs`, checking what a careful planner would check:
    /// coordinates in range, something left, and a valid shape (repaired with a warning).
    static func make(
        polygons: [(Polygon, String)], crs: String?, limits: SiteLimits, warnings: [String] = [],
        parcels: [SurveyParcel] = []
    ) throws -> Site {
        guard !polygons.isEmpty else { throw SiteError(.invalid, "the input holds no polygon") }
        var warnings = warnings
        let total = polygons.reduce(0) { $0 + $1.0.rings.reduce(0) { $0 + $1.count } }
        guard total <= limits.maxVertices else {
            throw SiteError(.tooLarge, "the site has \(total) vertices; the limit is \(limits.maxVertices)")
        }
        let lonLat = try Self.lonLat(polygons, crs: crs ?? storageCRS)
        let engine = GeometryEngine()
        var parts: [EngineGeometry] = []
        let repairedBefore = warnings.count
        for (p, where_) in lonLat {
            let g: EngineGeometry
            do { g = try engine.make(.polygon(p)) } catch { throw SiteError(.invalid, "\(where_): \(error)") }
            if let reason = try engine.invalidityReason(g) {
                let fixed = try engine.makeValid(g)
                warnings.append("\(where_) was invalid (\(reason)) and was repaired")
                parts.append(try engine.make(try fixed.value().parts(ofDimension: 2)))
            } else {
                parts.append(g)
            }
        }
        let places = lonLat.map(\.1).joined(separator: ", ")
        var union: EngineGeometry
        do {
            // A repaired part is unioned even alone: MakeValid's "structure" method can leave a
            // self-intersection in a ring that overlaps itself many times, which a union dissolves.
            let single = parts.count == 1 && warnings.count == repairedBefore
            union = single ? parts[0] : try engine.union(parts)
            // A single part that was valid is still valid, and validating a 1,000-vertex
            // corridor twice would add to every check of it over HTTP.
            if !single, let reason = try engine.invalidityReason(union) {
                let dissolved = try union.unaryUnion()
                if let still = try engine.invalidityReason(dissolved) {
                    throw SiteError(.invalid, "\(places): the shape is invalid (\(reason); \(still)) and could not be repaired")
                }
                warnings.append("the repaired site was still invalid (\(reason)) and was dissolved")
                union = dissolved
            }
        } catch let e as SiteError {
            throw e
        } catch {
            throw SiteError(.invalid, "\(places): the shape cannot be repaired or combined: \(error)")
        }
        let polys = try union.value().polygons
        let geometry = Geometry.multiPolygon(polys)
        let area = EqualAreaPlane.siteArea(geometry)
        guard !polys.isEmpty, area > 0.01, let bbox = geometry.boundingBox else {
            throw SiteError(.invalid, "the site has no area")
        }
        return Site(geometry: geometry, areaM2: area, bbox: bbox, parcels: parcels, warnings: warnings)
    }

    /// The polygons in lon/lat: transformed from `crs` when it is not lon/lat already, and
    /// every point checked to be a longitude and latitude (a wrong CRS shows here).
    private static func lonLat(_ polygons: [(Polygon, String)], crs: String) throws -> [(Polygon, String)] {
        var lonLat = polygons
        if !lonLatCRSs.contains(crs.uppercased()) {
            let t: CoordinateTransform
            do { t = try CoordinateTransform(from: crs, to: storageCRS) } catch {
                throw SiteError(.invalid, "unknown CRS \(crs): \(error)")
            }
            lonLat = try polygons.map { p, where_ in
                do {
                    return (
                        Polygon(
                            try p.rings.map { r in
                                var r = r; try t.transform(&r); return r
                            }), where_
                    )
                } catch {
                    throw SiteError(.invalid, "\(where_): \(error)")
                }
            }
        }
        for (p, where_) in lonLat {
            for (ri, ring) in p.rings.enumerated() {
                if let i = ring.firstIndex(where: { !($0.x >= -180 && $0.x <= 180 && $0.y >= -90 && $0.y <= 90) }) {
                    throw SiteError(
                        .invalid,
                        "\(where_) ring \(ri + 1) point \(i + 1): (\(ring[i].x), \(ring[i].y)) is not a longitude/latitude; is the CRS right?"
                    )
                }
            }
        }
        return lonLat
    }
}
