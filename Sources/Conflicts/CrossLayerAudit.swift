import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore

/// The cross-layer audit (三线矛盾图斑): every pair of features, one from each layer, whose
/// overlap exceeds a minimum area — farmland inside a red line, a town boundary over farmland.
/// For each pair: both ids, the ellipsoidal overlap, its geometry and the county it lies in.
public struct CrossLayerAudit {
    public struct Pair: Sendable {
        public var a: String, b: String
        public var aId: String, bId: String
        public var overlapAreaM2: Double
        public var county: String?
        /// The 地类编码 of the land-use side, when one layer of the pair is land use.
        public var landUseCode: String?
        public var geometry: Geometry
    }

    public struct Summary: Codable, Sendable {
        public var a: String, b: String
        public var county: String
        public var count: Int
        public var overlapAreaM2: Double
    }

    public static let defaultPairs = [
        ("farmland", "ecological_redline"), ("urban_boundary", "farmland"), ("urban_boundary", "ecological_redline")
    ]

    public let store: Store
    public init(store: Store) { self.store = store }

    /// A restricted layer in a pair is unknown to a caller who may not see it; to a scoped
    /// caller it holds only the features of its scope (`Store.scopeCut`), as its pages and tiles
    /// do. `filter` keeps only the 图斑 of the pair's land-use layer whose 地类 it accepts (every
    /// pair must have one).
    public func run(
        pairs: [(String, String)] = defaultPairs, minimumAreaM2: Double = 1, where filter: LandCodeFilter? = nil,
        for caller: Caller = .anonymous
    ) throws -> (pairs: [Pair], summary: [Summary]) {
        try store.pool.read { db in
            let engine = GeometryEngine()
            let visible = try caller.readableLayers(db)
            let units = try? AdminUnits(db: db, by: "county", among: visible, engine: engine)
            var found: [Pair] = []
            for (a, b) in pairs {
                let named = try caller.require([a, b], among: visible)
                let (la, lb) = (named[0], named[1])
                // Walk the smaller layer, query the larger one's R*Tree with each feature's box.
                let swap = la.version.count > lb.version.count
                let (outer, inner) = swap ? (lb, la) : (la, lb)
                // The land-use side's 地类编码, read with its rows (layer a's, if both are land use).
                let landUse = [la, lb].first { layer in
                    layer.spec.kind == .landUse && layer.version.fields.contains { $0.name == TubanReader(layer.spec.landUse).codeField }
                }
                let codeColumn: (LoadedLayer) -> [FeatureTable.Column] = { layer in
                    layer.name == landUse?.name ? [.field(TubanReader(layer.spec.landUse).codeField)] : []
                }
                let outerCode = codeColumn(outer), innerCode = codeColumn(inner)
                let outerCut = try caller.part(of: outer, in: store, db)?.cut, innerCut = try caller.part(of: inner, in: store, db)?.cut
                if let filter, outerCode.isEmpty && innerCode.isEmpty {
                    throw StoreError.invalidRequest(
                        "where=\(filter): it filters a land-use layer's 地类, and neither \(a) nor \(b) is a land-use layer with a code field"
                    )
                }
                let sql = FeatureTable(inner.version).inBox([.id, .areaM2, .geometry] + innerCode + [.fid], byFid: true)
                for row in try Row.fetchAll(db, sql: FeatureTable(outer.version).select([.id, .geometry] + outerCode + [.fid])) {
                    if let outerCut, !outerCut.contains(row[2 + outerCode.count]) { continue }
                    let outerCodeValue = outerCode.isEmpty ? nil : Self.code(row[2])
                    if let filter, !outerCode.isEmpty, !filter.accepts(outerCodeValue) { continue }
                    let outerID: String = row[0]
                    let og = try SpatiaLiteGeometry.decode(row[1])
                    guard og.dimension == 2, let box = og.boundingBox else { continue }
                    let outerGeometry = try engine.make(og)
                    let prepared = try outerGeometry.prepared()
                    let candidates = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: [box.minX, box.maxX, box.minY, box.maxY])
                    while let c = try candidates.next() {
                        if let innerCut, !innerCut.contains(c[3 + innerCode.count]) { continue }
                        let innerCodeValue = innerCode.isEmpty ? nil : Self.code(c[3])
                        if let filter, !innerCode.isEmpty, !filter.accepts(innerCodeValue) { continue }
                        let ig = try SpatiaLiteGeometry.decode(c[2])
                        guard ig.dimension == 2 else { continue }
                        let eg = try engine.make(ig)
                        let piece: Geometry
                        let area: Double
                        if try prepared.containsProperly(eg) {
                            piece = ig
                            area = c[1]
                        } else if try prepared.intersects(eg) {
                            piece = try outerGeometry.intersection(eg).value().parts(ofDimension: 2)
                            area = piece.isEmpty ? 0 : Ellipsoid.cgcs2000.area(piece)
                        } else {
                            continue
                        }
                        guard area > minimumAreaM2, let pb = piece.boundingBox else { continue }
                        let centre = Coordinate((pb.minX + pb.maxX) / 2, (pb.minY + pb.maxY) / 2)
                        let county = try units.flatMap { u in try u.unit(at: centre).map { u.units[$0].code } }
                        let innerID: String = c[0]
                        found.append(
                            Pair(
                                a: a, b: b, aId: swap ? innerID : outerID, bId: swap ? outerID : innerID,
                                overlapAreaM2: area, county: county, landUseCode: outerCodeValue ?? innerCodeValue, geometry: piece))
                    }
                }
            }
            // Sorted through indices: moving the pairs themselves (five strings and a
            // geometry each) cost more than comparing them.
            let order = found.indices.sorted { i, j in
                let p = found[i], q = found[j]
                return (p.a, p.b, p.aId, p.bId) < (q.a, q.b, q.aId, q.bId)
            }
            found = order.map { found[$0] }
            var totals: [String: Summary] = [:]
            for p in found {
                let key = "\(p.a)|\(p.b)|\(p.county ?? "")"
                totals[key, default: Summary(a: p.a, b: p.b, county: p.county ?? "", count: 0, overlapAreaM2: 0)].count += 1
                totals[key]!.overlapAreaM2 += p.overlapAreaM2
            }
            return (found, totals.values.sorted { ($0.a, $0.b, $0.county) < ($1.a, $1.b, $1.county) })
        }
    }

    /// A stored code as text, without the blanks around it.
    static func code(_ value: DatabaseValue) -> String? { value.storage.value.map { LandCode.trimmed("\($0)") } }

    /// `{"pairs": [...], "summary": [...]}`: the documented JSON shape, keys in sorted order;
    /// a pair with a land-use layer adds `landUseCode`.
    /// Written straight to text: Foundation's JSONSerialization boxes every value, which for
    /// tens of thousands of pairs takes longer than finding them.
    public static func json(_ pairs: [Pair], _ summary: [Summary]) throws -> Data {
        var w = GeoJSONWriter()
        w.raw("{\"pairs\":[")
        for (i, p) in pairs.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"a\":"); w.string(p.a)
            w.raw(",\"aId\":"); w.string(p.aId)
            w.raw(",\"b\":"); w.string(p.b)
            w.raw(",\"bId\":"); w.string(p.bId)
            w.raw(",\"county\":")
            if let county = p.county { w.string(county) } else { w.raw("null") }
            if let code = p.landUseCode {
                w.raw(",\"landUseCode\":"); w.string(code)
            }
            w.raw(",\"overlapAreaM2\":"); w.number(p.overlapAreaM2)
            w.raw("}")
        }
        w.raw("],\"summary\":[")
        for (i, s) in summary.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"a\":"); w.string(s.a)
            w.raw(",\"b\":"); w.string(s.b)
            w.raw(",\"count\":"); w.raw(String(s.count))
            w.raw(",\"county\":"); w.string(s.county)
            w.raw(",\"overlapAreaM2\":"); w.number(s.overlapAreaM2)
            w.raw("}")
        }
        w.raw("]}")
        return Data(w.text.utf8)
    }

    /// The overlap pieces as a FeatureCollection for QGIS, coordinates at full precision.
    public static func geojson(_ pairs: [Pair]) throws -> Data {
        var w = GeoJSONWriter()
        w.raw("{\"type\":\"FeatureCollection\",\"features\":[")
        for (i, p) in pairs.enumerated() {
            if i > 0 { w.raw(",") }
            w.feature(
                p.geometry,
                properties: [
                    ("a", p.a), ("aId", p.aId), ("b", p.b), ("bId", p.bId),
                    ("county", p.county ?? ""), ("overlapAreaM2", p.overlapAreaM2)
                ] + (p.landUseCode.map { [("landUseCode", $0)] } ?? []))
        }
        w.raw("]}")
        return Data(w.text.utf8)
    }
}
