import Foundation
import GeoCore
import GRDB
import LayerStore

/// Checks a site against every layer that has a rule, in one read transaction, so a check
/// never mixes versions of a layer that is reloading.
///
/// Speed comes from doing as little geometry as possible: the R*Tree gives candidates by
/// bounding box; a prepared site answers "wholly inside?" for each, and then the parcel's
/// precomputed ellipsoidal area is the overlap, with no intersection at all; only parcels
/// that cross the site's edge are intersected.
public final class ConflictChecker: @unchecked Sendable {  // immutable after init
    public let store: Store
    /// Overlaps at or below this are rounding, not conflicts (m²).
    public static let minimumOverlapM2 = 0.01

    public init(store: Store) { self.store = store }

    public func check(_ site: Site, layers wanted: [String]? = nil) throws -> CheckOutcome {
        try store.pool.read { db in try self.check(site, layers: wanted, db: db) }
    }

    public func check(_ site: Site, layers wanted: [String]?, db: Database) throws -> CheckOutcome {
        let loaded = try Store.loadedLayers(db)
        if let wanted {
            let names = Set(loaded.map(\.name))
            if let unknown = wanted.first(where: { !names.contains($0) }) {
                throw StoreError.unknownLayer(unknown, known: loaded.map(\.name))
            }
        }
        let layers = loaded.filter { $0.spec.rule != nil && (wanted?.contains($0.name) ?? true) }
        let engine = GeometryEngine()
        let siteGeometry = try engine.make(site.geometry)
        let context = SiteContext(site: site, geometry: siteGeometry, prepared: try siteGeometry.prepared(),
                                  plane: LocalPlane(origin: Coordinate((site.bbox.minX + site.bbox.maxX) / 2, (site.bbox.minY + site.bbox.maxY) / 2)))
        var results: [CheckResult.LayerConflict] = []
        var pieces: [ConflictPiece] = []
        var versions: [String: LayerVersionRef] = [:]
        for layer in layers {
            let evaluation = try LayerEvaluation(layer: layer, context: context, engine: engine, db: db).run()
            results.append(evaluation.result)
            pieces += evaluation.pieces
            versions[layer.name] = LayerVersionRef(version: layer.version.number, label: layer.version.label)
        }
        let worst = results.filter(\.conflict).map(\.severity).max()
        let verdict: CheckResult.Verdict = worst.map { CheckResult.Verdict(rawValue: $0.rawValue)! } ?? .clear
        let result = CheckResult(verdict: verdict,
                                 site: .init(areaM2: site.areaM2, areaMu: AreaUnit.mu(fromM2: site.areaM2),
                                             areaHa: AreaUnit.hectares(fromM2: site.areaM2), bbox: site.bbox.array),
                                 layers: results, warnings: site.warnings)
        return CheckOutcome(result: result, site: site, pieces: pieces, versions: versions)
    }
}

struct SiteContext {
    let site: Site
    let geometry: EngineGeometry
    let prepared: PreparedGeometry
    /// Metres around the site, for distances and buffers.
    let plane: LocalPlane
}

/// One layer checked against one site.
struct LayerEvaluation {
    let layer: LoadedLayer
    let rule: Rule
    let context: SiteContext
    let engine: GeometryEngine
    let db: Database
    let ellipsoid = Ellipsoid.cgcs2000

    init(layer: LoadedLayer, context: SiteContext, engine: GeometryEngine, db: Database) {
        self.layer = layer
        self.rule = layer.spec.rule!
        self.context = context
        self.engine = engine
        self.db = db
    }

    struct Candidate {
        let fid: Int64
        let id: String
        let areaM2: Double
        let geometry: Geometry
    }

    /// Features whose boxes come within `margin` degrees of the site's box.
    func candidates(margin: (lon: Double, lat: Double) = (0, 0)) throws -> [Candidate] {
        let table = layer.version.tableName
        let b = context.site.bbox
        let sql = """
            SELECT om_fid, om_id, om_area_m2, geom FROM "\(table)" WHERE om_fid IN
            (SELECT pkid FROM "idx_\(table)_geom" WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?)
            """
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql),
                                       arguments: [b.minX - margin.lon, b.maxX + margin.lon, b.minY - margin.lat, b.maxY + margin.lat])
        var out: [Candidate] = []
        while let row = try rows.next() {
            let blob: Data = row[3]
            out.append(Candidate(fid: row[0], id: row[1], areaM2: row[2], geometry: try SpatiaLiteGeometry.decode(blob)))
        }
        return out
    }

    /// All attributes of a feature, by field name.
    func properties(_ fid: Int64) throws -> [String: AttributeValue] {
        let fields = layer.version.fields
        guard !fields.isEmpty else { return [:] }
        let columns = fields.map { "\"" + $0.name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM \"\(layer.version.tableName)\" WHERE om_fid = ?"),
                                         arguments: [fid]) else { return [:] }
        var out: [String: AttributeValue] = [:]
        for (i, f) in fields.enumerated() {
            let v = row[i] as DatabaseValue
            switch v.storage {
            case .null: out[f.name] = .null
            case .int64(let n): out[f.name] = .integer(n)
            case .double(let d): out[f.name] = .real(d)
            case .string(let s): out[f.name] = .text(s)
            case .blob: out[f.name] = .null
            }
        }
        return out
    }

    func severity(_ properties: [String: AttributeValue]) -> Severity {
        guard let by = rule.byField, let value = properties[by.field]?.stringValue, let s = by.values[value] else { return rule.severity }
        return s
    }

    func run() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        let isPolygonal = layer.version.geometryType.contains("Polygon")
        if isPolygonal && rule.bufferM == nil { return try areal() }
        return try proximity()
    }

    // MARK: Polygon layers: overlap (inside) or uncovered part (outside)

    func areal() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        var features: [CheckResult.FeatureConflict] = []
        var overlaps: [(geometry: Geometry, area: Double, box: BoundingBox)] = []
        var pieces: [ConflictPiece] = []
        for c in try candidates() {
            let g = try engine.make(c.geometry)
            let piece: Geometry
            let area: Double
            if try context.prepared.containsProperly(g) {
                piece = c.geometry
                area = c.areaM2
            } else if try context.prepared.intersects(g) {
                piece = try context.geometry.intersection(g).value().parts(ofDimension: 2)
                area = ellipsoid.area(piece)
            } else {
                continue
            }
            guard area > ConflictChecker.minimumOverlapM2, let box = piece.boundingBox else { continue }
            overlaps.append((piece, area, box))
            let props = try properties(c.fid)
            let sev = rule.when == .inside ? severity(props) : nil
            features.append(.init(id: c.id, severity: sev, overlapAreaM2: area, minDistanceM: nil, lengthM: nil, properties: props))
            pieces.append(ConflictPiece(layer: layer.name, featureId: c.id, severity: sev, role: .feature, geometry: c.geometry, areaM2: c.areaM2))
            if rule.when == .inside {
                pieces.append(ConflictPiece(layer: layer.name, featureId: c.id, severity: sev, role: .overlap, geometry: piece, areaM2: area))
            }
        }
        let covered = try unionArea(overlaps)
        let siteArea = context.site.areaM2
        var outside: Double? = nil
        var conflict: Bool
        if rule.when == .outside {
            let rest: Geometry
            if overlaps.isEmpty {
                rest = context.site.geometry
            } else {
                let cover = try engine.union(try overlaps.map { try engine.make($0.geometry) })
                rest = try context.geometry.difference(cover).value().parts(ofDimension: 2)
            }
            let outsideArea = rest.isEmpty ? 0 : ellipsoid.area(rest)
            outside = outsideArea
            conflict = outsideArea > ConflictChecker.minimumOverlapM2
            if conflict { pieces.append(ConflictPiece(layer: layer.name, featureId: nil, severity: rule.severity, role: .outside, geometry: rest, areaM2: outsideArea)) }
        } else {
            conflict = !features.isEmpty
        }
        features.sort { ($0.severity ?? .notice, $0.overlapAreaM2) > ($1.severity ?? .notice, $1.overlapAreaM2) }
        // The layer's severity is the worst of its conflicting features (by_field), else its rule's.
        let layerSeverity = rule.when == .inside ? (features.compactMap(\.severity).max() ?? rule.severity) : rule.severity
        let result = CheckResult.LayerConflict(layer: layer.name, title: layer.spec.title, severity: layerSeverity, conflict: conflict,
                                               overlapAreaM2: covered, overlapRatio: siteArea > 0 ? covered / siteArea : 0,
                                               outsideAreaM2: outside, features: features)
        return (result, pieces)
    }

    /// The area of the union of overlap pieces, without double counting where a layer's
    /// features overlap each other; pieces whose boxes are apart are simply added.
    func unionArea(_ overlaps: [(geometry: Geometry, area: Double, box: BoundingBox)]) throws -> Double {
        guard overlaps.count > 1 else { return overlaps.first?.area ?? 0 }
        // Group pieces whose boxes touch (union-find over the sweep of sorted boxes).
        let order = overlaps.indices.sorted { overlaps[$0].box.minX < overlaps[$1].box.minX }
        var parent = Array(overlaps.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        for (k, i) in order.enumerated() {
            var m = k + 1
            while m < order.count, overlaps[order[m]].box.minX <= overlaps[i].box.maxX {
                let j = order[m]
                if overlaps[i].box.intersects(overlaps[j].box) { parent[find(i)] = find(j) }
                m += 1
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in overlaps.indices { groups[find(i), default: []].append(i) }
        var total = 0.0
        for members in groups.values {
            if members.count == 1 { total += overlaps[members[0]].area; continue }
            let u = try engine.union(try members.map { try engine.make(overlaps[$0].geometry) })
            total += ellipsoid.area(try u.value())
        }
        return total
    }

    // MARK: Line and point layers: distance to the site (buffer_m)

    func proximity() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        let buffer = rule.bufferM ?? 0
        let plane = context.plane
        let margin = plane.degrees(forMetres: buffer + 1)
        let sitePlane = try engine.make(plane.toPlane(context.site.geometry))
        var features: [CheckResult.FeatureConflict] = []
        var pieces: [ConflictPiece] = []
        var corridors: [EngineGeometry] = []
        for c in try candidates(margin: margin) {
            let g = try engine.make(c.geometry)
            var distance: Double
            var length: Double? = nil
            var inside: Geometry? = nil
            if try context.prepared.intersects(g) {
                distance = 0
                if c.geometry.dimension == 1 {
                    let part = try context.geometry.intersection(g).value()
                    length = ellipsoid.length(part)
                    inside = .multiLineString(part.lineStrings)
                } else if c.geometry.dimension == 2 {
                    inside = try context.geometry.intersection(g).value().parts(ofDimension: 2)
                }
            } else {
                // Nearest points in the local plane, then the geodesic distance between them.
                let (a, b) = try sitePlane.nearestPoints(try engine.make(plane.toPlane(c.geometry)))
                distance = ellipsoid.distance(plane.toLonLat(a), plane.toLonLat(b))
                if c.geometry.dimension == 1 { length = 0 }
            }
            guard distance < buffer || (buffer == 0 && distance == 0) else { continue }
            let props = try properties(c.fid)
            let sev = severity(props)
            let overlap = c.geometry.dimension == 2 ? (inside.map(ellipsoid.area) ?? 0) : 0
            features.append(.init(id: c.id, severity: sev, overlapAreaM2: overlap, minDistanceM: distance, lengthM: length, properties: props))
            pieces.append(ConflictPiece(layer: layer.name, featureId: c.id, severity: sev, role: .feature, geometry: c.geometry, areaM2: 0))
            if let inside, !inside.isEmpty {
                pieces.append(ConflictPiece(layer: layer.name, featureId: c.id, severity: sev, role: .overlap, geometry: inside, areaM2: overlap))
            }
            if buffer > 0 { corridors.append(try engine.make(plane.toPlane(c.geometry)).buffer(buffer, quadrantSegments: 8)) }
        }
        // How much of the site lies in the protection corridor.
        var corridorArea = 0.0
        if !corridors.isEmpty {
            let corridor = try engine.make(plane.toLonLat(try engine.union(corridors).value()))
            let part = try context.geometry.intersection(corridor).value().parts(ofDimension: 2)
            corridorArea = part.isEmpty ? 0 : ellipsoid.area(part)
            if corridorArea > 0 {
                pieces.append(ConflictPiece(layer: layer.name, featureId: nil, severity: rule.severity, role: .corridor, geometry: part, areaM2: corridorArea))
            }
        }
        features.sort { ($0.minDistanceM ?? 0, $0.id) < ($1.minDistanceM ?? 0, $1.id) }
        let siteArea = context.site.areaM2
        let result = CheckResult.LayerConflict(layer: layer.name, title: layer.spec.title,
                                               severity: features.compactMap(\.severity).max() ?? rule.severity,
                                               conflict: !features.isEmpty, overlapAreaM2: corridorArea,
                                               overlapRatio: siteArea > 0 ? corridorArea / siteArea : 0,
                                               outsideAreaM2: nil, features: features)
        return (result, pieces)
    }
}
