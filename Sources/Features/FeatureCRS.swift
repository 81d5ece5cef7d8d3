import Foundation
import GeoCore
import Synchronization

/// A coordinate reference system the feature API offers (OGC API – Features Part 2), with the
/// axis order its authority defines.
///
/// Part 2 says coordinates follow the axis order of the CRS asked for: CRS84 is lon/lat, but
/// EPSG:4326 and EPSG:4490 are lat/lon, and the CGCS2000 Gauss–Krüger CRSs are northing/easting
/// ("X" north, "Y" east, as EPSG defines them and as Chinese surveys write them). GDAL, QGIS and
/// pygeoapi agree; `Content-Crs` names the CRS so a client is never left guessing.
public struct FeatureCRS: Hashable, Sendable {
    /// The OGC URI, e.g. http://www.opengis.net/def/crs/EPSG/0/4490.
    public let uri: String
    /// What PROJ calls it.
    public let proj: String
    /// True when the first axis is latitude or northing.
    public let northFirst: Bool
    public let isGeographic: Bool
    public let title: String

    public static let crs84 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", proj: "OGC:CRS84", northFirst: false,
        isGeographic: true, title: "WGS 84 longitude/latitude (CRS84)")
    public static let epsg4326 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/EPSG/0/4326", proj: "EPSG:4326", northFirst: true,
        isGeographic: true, title: "WGS 84 (latitude, longitude)")
    public static let epsg4490 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/EPSG/0/4490", proj: "EPSG:4490", northFirst: true,
        isGeographic: true, title: "CGCS2000 (latitude, longitude)")
    public static let epsg3857 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/EPSG/0/3857", proj: "EPSG:3857", northFirst: false,
        isGeographic: false, title: "WGS 84 / Pseudo-Mercator")
    public static let epsg4528 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/EPSG/0/4528", proj: "EPSG:4528", northFirst: true,
        isGeographic: false, title: "CGCS2000 / 3-degree Gauss-Kruger zone 40 (northing, easting)")
    public static let epsg4549 = FeatureCRS(
        uri: "http://www.opengis.net/def/crs/EPSG/0/4549", proj: "EPSG:4549", northFirst: true,
        isGeographic: false, title: "CGCS2000 / 3-degree Gauss-Kruger CM 120E (northing, easting)")

    /// Where features are stored: CGCS2000 longitude/latitude.
    public static let storage = epsg4490
    /// The CRS of a response or a parameter when none is named (OGC API – Features Part 1).
    public static let `default` = crs84
    public static let supported: [FeatureCRS] = [crs84, epsg4490, epsg4326, epsg3857, epsg4528, epsg4549]

    /// Accepts the OGC URI, the URN, `EPSG:n`, the safe CURIE `[EPSG:n]` and `CRS84`.
    public static func parse(_ raw: String, parameter: String) throws -> FeatureCRS {
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("[") && s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        let upper = s.uppercased()
        var key: String?
        if upper == "CRS84" || upper == "OGC:CRS84" || upper == "URN:OGC:DEF:CRS:OGC:1.3:CRS84" || upper == "URN:OGC:DEF:CRS:OGC::CRS84" {
            key = "CRS84"
        } else if upper.hasPrefix("EPSG:"), let code = Int(upper.dropFirst(5)) {
            key = String(code)
        } else if upper.hasPrefix("URN:OGC:DEF:CRS:EPSG:"),
            let code = upper.split(separator: ":", omittingEmptySubsequences: false).last.flatMap({ Int($0) })
        {
            key = String(code)
        } else if let match = supported.first(where: { $0.uri == s || $0.uri.replacingOccurrences(of: "http://", with: "https://") == s }) {
            return match
        }
        if let key {
            if key == "CRS84" { return crs84 }
            if let match = supported.first(where: { $0.proj == "EPSG:\(key)" }) { return match }
        }
        throw FeatureError.invalidParameter(
            parameter, "unsupported CRS '\(raw)'; this server offers \(supported.map(\.uri).joined(separator: ", "))")
    }

    /// The `Content-Crs` header value.
    public var header: String { "<\(uri)>" }

    /// Reorders a coordinate between GIS order (x = lon/easting) and this CRS's axis order.
    @inline(__always) func axisOrder(_ c: Coordinate) -> Coordinate { northFirst ? Coordinate(c.y, c.x) : c }

    func axisOrder(_ g: Geometry) -> Geometry { northFirst ? g.mapSequences { $0.map { Coordinate($0.y, $0.x) } } : g }
}

/// Moves geometries between the storage CRS and a client's CRS.
///
/// CGCS2000 and WGS 84 coincide to well under a metre here, and PROJ itself offers only the
/// "ballpark" (identity) operation between them, so the geographic CRSs differ only in axis
/// order. The projected ones go through PROJ; PROJ objects take milliseconds to create, so a
/// small pool keeps them for reuse (each is used by one request at a time).
public final class CRSTransforms: Sendable {
    public static let shared = CRSTransforms()
    private let free = Mutex<[String: [Idle]]>([:])

    /// A transform in the pool. @unchecked: nothing else holds an idle transform, so taking
    /// one out hands it to a single borrower; it is never shared.
    private struct Idle: @unchecked Sendable { let transform: CoordinateTransform }

    func borrow(from source: String, to target: String) throws -> CoordinateTransform {
        let key = source + ">" + target
        if let idle = free.withLock({ $0[key]?.popLast() }) { return idle.transform }
        return try CoordinateTransform(from: source, to: target)
    }

    func giveBack(_ t: CoordinateTransform) {
        let key = t.source + ">" + t.target
        let idle = Idle(transform: t)
        free.withLock { free in
            if free[key, default: []].count < 8 { free[key, default: []].append(idle) }
        }
    }

    func with<T>(from source: String, to target: String, _ body: (CoordinateTransform) throws -> T) throws -> T {
        let t = try borrow(from: source, to: target)
        defer { giveBack(t) }
        return try body(t)
    }

    /// A geometry written in `crs` (its own axis order) as storage lon/lat.
    public func toStorage(_ g: Geometry, from crs: FeatureCRS) throws -> Geometry {
        let gis = crs.axisOrder(g)
        if crs.isGeographic { return gis }
        return try with(from: crs.proj, to: FeatureCRS.storage.proj) { try $0.transform(gis) }
    }

    /// A rectangle in `crs` (axis order of the CRS) as a storage polygon: in a projected CRS
    /// the edges are densified, as a straight edge there is a curve in lon/lat.
    public func boxToStorage(_ box: BoundingBox, from crs: FeatureCRS) throws -> Geometry {
        let (a, b) = (crs.axisOrder(Coordinate(box.minX, box.minY)), crs.axisOrder(Coordinate(box.maxX, box.maxY)))
        let (x0, y0, x1, y1) = (min(a.x, b.x), min(a.y, b.y), max(a.x, b.x), max(a.y, b.y))
        let steps = crs.isGeographic ? 1 : 32
        var ring: [Coordinate] = []
        func edge(_ p: Coordinate, _ q: Coordinate) {
            for i in 0..<steps {
                let t = Double(i) / Double(steps)
                ring.append(Coordinate(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t))
            }
        }
        edge(Coordinate(x0, y0), Coordinate(x1, y0))
        edge(Coordinate(x1, y0), Coordinate(x1, y1))
        edge(Coordinate(x1, y1), Coordinate(x0, y1))
        edge(Coordinate(x0, y1), Coordinate(x0, y0))
        ring.append(ring[0])
        let g = Geometry.polygon(Polygon([ring]))
        if crs.isGeographic { return g }
        return try with(from: crs.proj, to: FeatureCRS.storage.proj) { try $0.transform(g) }
    }

    /// Writes storage geometries in a client's CRS, one request at a time.
    final class Output {
        let crs: FeatureCRS
        private let transform: CoordinateTransform?
        private let owner: CRSTransforms

        init(crs: FeatureCRS, owner: CRSTransforms) throws {
            self.crs = crs
            self.owner = owner
            transform = crs.isGeographic ? nil : try owner.borrow(from: FeatureCRS.storage.proj, to: crs.proj)
        }

        deinit { if let transform { owner.giveBack(transform) } }

        /// In GIS order; the writer swaps axes when the CRS wants north first.
        func project(_ g: Geometry) throws -> Geometry {
            guard let transform else { return g }
            return try transform.transform(g)
        }
    }

    func output(_ crs: FeatureCRS) throws -> Output { try Output(crs: crs, owner: self) }
}
