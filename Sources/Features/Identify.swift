import Foundation
import GRDB
import GeoCore
import LayerStore

/// "What is here?": the features of every layer the caller reads at a point — the polygons that
/// contain it (a point on an edge counts), and the lines and points within a few metres,
/// since nobody clicks exactly on a pipeline.
public struct Identify: Sendable {
    public static let defaultToleranceM = 5.0
    public static let maxToleranceM = 1_000.0
    public static let maxFeaturesPerLayer = 100

    public struct Hit: Sendable {
        public let layer: String
        public let title: String
        public let id: String
        /// Geodesic distance from the point in metres (0 inside a polygon).
        public let distanceM: Double
        public let areaM2: Double?
        public let properties: [(name: String, value: AttributeValue)]
        public let geometry: Geometry
        /// Of a restricted layer (its reading is on record).
        public let restricted: Bool
    }

    public let catalog: FeatureCatalog

    public init(catalog: FeatureCatalog) { self.catalog = catalog }

    /// Checks the point and the layer names; an unknown or restricted layer is the same error.
    public static func validate(lon: Double, lat: Double, toleranceM: Double) throws {
        guard lon.isFinite, lat.isFinite, (-180...180).contains(lon), (-90...90).contains(lat) else {
            throw FeatureError.invalidParameter("lon/lat", "\(lon), \(lat) is not a longitude -180…180 and a latitude -90…90")
        }
        guard toleranceM.isFinite, toleranceM >= 0, toleranceM <= maxToleranceM else {
            throw FeatureError.invalidParameter("tolerance", "must be 0 to \(Int(maxToleranceM)) metres")
        }
    }

    public func identify(
        lon: Double, lat: Double, layers wanted: [String]? = nil, toleranceM: Double = defaultToleranceM,
        for caller: Caller = .anonymous, db: Database
    ) throws -> [Hit] {
        try Self.validate(lon: lon, lat: lat, toleranceM: toleranceM)
        let all = try catalog.layers(db, for: caller)
        if let wanted { try caller.require(wanted, among: all.map(\.layer)) }
        let layers = all.filter { wanted?.contains($0.id) ?? true }
        let point = Coordinate(lon, lat)
        let plane = LocalPlane(origin: point)
        let margin = plane.degrees(forMetres: max(toleranceM, 0.01))
        let engine = GeometryEngine()
        let pointGeometry = try engine.make(.point(point))
        let pointPlane = try engine.make(.point(Coordinate(0, 0)))
        let ellipsoid = Ellipsoid.cgcs2000
        var hits: [Hit] = []
        for layer in layers {
            let sql = layer.table.inBox(FeatureReader.columns + [.areaM2], byFid: true)
            let rows = try Row.fetchCursor(
                db, sql: sql, arguments: [lon - margin.lon, lon + margin.lon, lat - margin.lat, lat + margin.lat])
            var found: [Hit] = []
            while let row = try rows.next(), found.count < Self.maxFeaturesPerLayer {
                let feature = FeatureReader.row(row, fieldCount: layer.fields.count)
                if let cut = layer.cut, !cut.contains(feature.fid) { continue }
                guard let blob = feature.blob else { continue }
                let g = try SpatiaLiteGeometry.decode(blob)
                var distance = 0.0
                if g.dimension == 2 {
                    guard try engine.make(g).intersects(pointGeometry) else { continue }
                } else {
                    // Lines and points: the nearest point in a local metric plane, then geodesic.
                    let (a, _) = try engine.make(plane.toPlane(g)).nearestPoints(pointPlane)
                    distance = ellipsoid.distance(plane.toLonLat(a), point)
                    guard distance <= toleranceM else { continue }
                }
                let props = zip(layer.fields, feature.values).map { f, v -> (name: String, value: AttributeValue) in
                    switch v.storage {
                    case .null, .blob: return (f.name, .null)
                    case .int64(let i): return (f.name, .integer(i))
                    case .double(let d): return (f.name, .real(d))
                    case .string(let s): return (f.name, .text(s))
                    }
                }
                let area: Double? = g.dimension == 2 ? row[3 + layer.fields.count] : nil
                found.append(
                    Hit(
                        layer: layer.id, title: layer.title, id: feature.id, distanceM: distance, areaM2: area,
                        properties: props, geometry: g, restricted: layer.layer.spec.access != .public))
            }
            hits += found.sorted { ($0.distanceM, $0.id) < ($1.distanceM, $1.id) }
        }
        return hits
    }

    /// The hits as a GeoJSON FeatureCollection; each feature says its layer.
    public static func geoJSON(_ hits: [Hit], lon: Double, lat: Double, geometry: Bool = true) -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + hits.count * 800)
        w.raw(#"{"type":"FeatureCollection","point":["#)
        w.number(lon); w.raw(","); w.number(lat)
        w.raw(#"],"numberReturned":"#)
        w.number(hits.count)
        w.raw(#","features":["#)
        for (i, h) in hits.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw(#"{"type":"Feature","id":"#); w.string(h.id)
            w.raw(#","layer":"#); w.string(h.layer)
            w.raw(#","layerTitle":"#); w.string(h.title)
            w.raw(#","distanceM":"#); w.number((h.distanceM * 100).rounded() / 100)
            if let a = h.areaM2 { w.raw(#","areaM2":"#); w.number((a * 100).rounded() / 100) }
            w.raw(#","geometry":"#)
            if geometry { w.geometry(h.geometry, northFirst: false) } else { w.raw("null") }
            w.raw(#","properties":{"#)
            for (j, p) in h.properties.enumerated() {
                if j > 0 { w.raw(",") }
                w.key(p.name)
                w.any(p.value.jsonObject)
            }
            w.raw("}}")
        }
        w.raw("]}")
        return w.bytes
    }
}
