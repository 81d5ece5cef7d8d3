import Foundation
import GRDB
import GeoCore
import LandUse
import LayerStore

/// The natural-resources ledger (自然生态资源"一本账"): per administrative unit and layer,
/// the feature count and the ellipsoidal area of the layer clipped to the unit — never read
/// from an attribute. A parcel straddling a boundary is split between the units by area.
public struct Ledger: Codable, Sendable {
    public struct Figures: Codable, Sendable {
        public var count: Int = 0
        public var areaM2: Double = 0
        public var areaHa: Double = 0
        public var areaMu: Double = 0
        /// Farmland by land class (DLBM: 0101 水田, 0102 水浇地, 0103 旱地); a land-use layer's
        /// 图斑 by their 地类编码 (gross areas).
        public var byDLBM: [String: Figures]?
        /// A land-use layer's net areas, as 三调 summaries count them: each 图斑's area in the
        /// unit × (1 − KCXS), the deducted part under its KCDLBM (田坎), by code, 一级类 and 三大类.
        public var landUse: LandUseTally.Summary?
        /// The area of 图斑 whose 地类编码 (or deduction) the classification does not know (a
        /// version loaded with `on_error: report`): left out of `landUse`, and said here.
        public var unclassifiedM2: Double?

        public init() {}

        mutating func finish() {
            areaHa = AreaUnit.hectares(fromM2: areaM2)
            areaMu = AreaUnit.mu(fromM2: areaM2)
            if var classes = byDLBM {
                for k in classes.keys { classes[k]!.finish() }
                byDLBM = classes
            }
        }
    }

    public struct UnitEntry: Codable, Sendable {
        public var code: String
        public var name: String
        public var layers: [String: Figures]
    }

    public var by: String
    public var units: [UnitEntry]
    public var totals: [String: Figures]
}

public struct LedgerBuilder {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// Restricted layers count only for a caller allowed to see them; for a scoped caller only
    /// in the units its scope covers (a county's row for a county code, a township's for a
    /// township code), and the layer's totals are of those units alone.
    public func build(by: String = "county", layers wanted: [String]? = nil, for caller: Caller = .anonymous) throws -> Ledger {
        try store.pool.read { db in
            let engine = GeometryEngine()
            let all = try caller.readableLayers(db)
            if let wanted { try caller.require(wanted, among: all) }
            let units: AdminUnits
            do {
                units = try AdminUnits(db: db, by: by, among: all, engine: engine)
            } catch let error as StoreError {
                // No boundaries of that level: land-use 图斑 still say their township (and
                // county, and village) by their 坐落单位代码.
                guard let byCode = LocationCodeLedger(level: by) else { throw error }
                switch error {
                case .notFound, .invalidRequest:
                    return try byCode.build(
                        layers: wanted, among: all,
                        scope: {
                            if case .withinScope(let scope) = caller.sight(of: $0) { return scope }
                            return nil
                        }, db: db)
                default: throw error
                }
            }
            let layers = all.filter { $0.spec.kind != .admin && (wanted?.contains($0.name) ?? true) }
            var entries = units.units.map { Ledger.UnitEntry(code: $0.code, name: $0.name, layers: [:]) }
            var totals: [String: Ledger.Figures] = [:]
            for layer in layers {
                let keeping: (Int) -> Bool
                if case .withinScope(let scope) = caller.sight(of: layer) {
                    keeping = { scope.covers(units.units[$0].code) }
                } else {
                    keeping = { _ in true }
                }
                let (perUnit, total) = try tally(layer, units: units, engine: engine, db: db, keeping: keeping)
                for (i, figures) in perUnit.enumerated() where keeping(i) { entries[i].layers[layer.name] = figures }
                totals[layer.name] = total
            }
            return Ledger(by: units.level, units: entries, totals: totals)
        }
    }

    struct Share {
        let fid: Int64
        let box: BoundingBox
        var area: Double
        let landClass: String?
        /// A land-use 图斑's deduction: its KCXS and KCDLBM.
        var deduction: (ratio: Double, code: String?) = (0, nil)
    }

    /// `keeping`: the units whose shares count (all but a scoped caller's); the others' figures
    /// stay empty, and the totals are of the kept units alone.
    func tally(
        _ layer: LoadedLayer, units: AdminUnits, engine: GeometryEngine, db: Database, keeping: (Int) -> Bool = { _ in true }
    ) throws -> ([Ledger.Figures], Ledger.Figures) {
        let table = FeatureTable(layer.version)
        let landUse = layer.spec.kind == .landUse ? TubanReader(layer.spec.landUse) : nil
        let classField =
            landUse?.codeField ?? (layer.spec.kind == .farmland && layer.version.fields.contains { $0.name == "DLBM" } ? "DLBM" : nil)
        // The deduction of each 图斑, by fid, read with the boxes (nil for other layers).
        var deductions: [Int64: (ratio: Double, code: String?)] = [:]
        if let landUse, layer.version.fields.contains(where: { $0.name == landUse.ratioField }) {
            let hasCode = layer.version.fields.contains { $0.name == landUse.deductCodeField }
            let columns: [FeatureTable.Column] = [.fid, .field(landUse.ratioField)] + (hasCode ? [.field(landUse.deductCodeField)] : [])
            let rows = try Row.fetchCursor(db, sql: table.select(columns))
            while let row = try rows.next() {
                let ratio = (row[1] as DatabaseValue).storage.value.flatMap { Double("\($0)") } ?? 0
                guard ratio > 0 else { continue }
                deductions[row[0]] = (ratio, hasCode ? (row[2] as DatabaseValue).storage.value.map { "\($0)" } : nil)
            }
        }
        let ellipsoid = Ellipsoid.cgcs2000
        var shares = Array(repeating: [Share](), count: units.units.count)
        var boundary: [(fid: Int64, box: BoundingBox, candidates: [Int], landClass: String?)] = []
        // One pass over boxes and precomputed areas: features wholly inside a unit's cells
        // need no geometry at all.
        let cursor = try Row.fetchCursor(db, sql: table.select([.fid, .box, .areaM2] + (classField.map { [.field($0)] } ?? [])))
        while let row = try cursor.next() {
            let box = BoundingBox(row[1], row[2], row[3], row[4])
            let landClass: String? = classField == nil ? nil : (row[6] as DatabaseValue).storage.value.map { "\($0)" }
            let (inside, located) = units.locate(box)
            if let inside {
                if keeping(inside) { shares[inside].append(Share(fid: row[0], box: box, area: row[5], landClass: landClass)) }
                continue
            }
            let candidates = located.filter(keeping)
            if !candidates.isEmpty {
                boundary.append((row[0], box, candidates, landClass))
            }
        }
        // Features near a boundary: clip them to each unit they touch.
        let geometrySQL = table.byFid([.geometry])
        for b in boundary {
            guard let blob = try Data.fetchOne(db.cachedStatement(sql: geometrySQL), arguments: [b.fid]) else { continue }
            let g = try SpatiaLiteGeometry.decode(blob)
            let eg = try engine.make(g)
            for u in b.candidates where units.units[u].box.intersects(b.box) {
                let unit = units.units[u]
                let area: Double
                if try unit.prepared.containsProperly(eg) {
                    area = ellipsoid.area(g)
                } else if try unit.prepared.intersects(eg) {
                    let part = try unit.geometry.intersection(eg).value().parts(ofDimension: 2)
                    area = part.isEmpty ? 0 : ellipsoid.area(part)
                    if area <= ConflictChecker.minimumOverlapM2 && g.dimension == 2 { continue }
                } else {
                    continue
                }
                shares[u].append(Share(fid: b.fid, box: b.box, area: area, landClass: b.landClass))
            }
        }
        var perUnit: [Ledger.Figures] = []
        var total = Ledger.Figures()
        var counted = Set<Int64>()
        var allPieces: [LandUseTally.Piece] = []
        for (u, list) in shares.enumerated() {
            var f = Ledger.Figures()
            if classField != nil { f.byDLBM = [:] }
            // 图斑 of a land-use layer tile the land: neighbours' boxes always meet, and a union
            // of them would be the whole unit's, for nothing (the load checks they do not overlap).
            let corrected = landUse != nil ? list : try removeOverlaps(list, unit: units.units[u], table: table, engine: engine, db: db)
            if let landUse {
                var unclassified = 0.0
                let pieces = corrected.compactMap { s -> LandUseTally.Piece? in
                    let d = deductions[s.fid] ?? (0, nil)
                    guard case .success(let piece) = landUse.piece(code: s.landClass, ratio: d.ratio, deductCode: d.code, grossM2: s.area)
                    else {
                        unclassified += s.area
                        return nil
                    }
                    return piece
                }
                f.unclassifiedM2 = unclassified
                total.unclassifiedM2 = (total.unclassifiedM2 ?? 0) + unclassified
                f.landUse = try LandUseTally(classification: landUse.classification).summary(pieces)
                allPieces += pieces
            }
            for s in corrected {
                f.count += 1
                f.areaM2 += s.area
                if let c = s.landClass {
                    f.byDLBM![c, default: Ledger.Figures()].count += 1
                    f.byDLBM![c, default: Ledger.Figures()].areaM2 += s.area
                }
                counted.insert(s.fid)
            }
            total.areaM2 += f.areaM2
            if let classes = f.byDLBM {
                if total.byDLBM == nil { total.byDLBM = [:] }
                for (k, v) in classes {
                    total.byDLBM![k, default: Ledger.Figures()].areaM2 += v.areaM2
                }
            }
            f.finish()
            perUnit.append(f)
        }
        total.count = counted.count
        if let landUse { total.landUse = try LandUseTally(classification: landUse.classification).summary(allPieces) }
        if total.byDLBM != nil {
            // Distinct features per class across units.
            var seen: [String: Set<Int64>] = [:]
            for list in shares { for s in list { if let c = s.landClass { seen[c, default: []].insert(s.fid) } } }
            for (k, ids) in seen { total.byDLBM![k, default: Ledger.Figures()].count = ids.count }
        }
        total.finish()
        return (perUnit, total)
    }

    /// Where features of one layer overlap each other inside a unit, their shares are replaced
    /// by the area of their union, so nothing is counted twice. Features whose boxes are apart
    /// (the usual case) are left alone.
    func removeOverlaps(_ shares: [Share], unit: AdminUnits.Unit, table: FeatureTable, engine: GeometryEngine, db: Database) throws
        -> [Share]
    {
        guard shares.count > 1 else { return shares }
        let order = shares.indices.sorted { shares[$0].box.minX < shares[$1].box.minX }
        var parent = Array(shares.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        var anyGroup = false
        for (k, i) in order.enumerated() {
            var m = k + 1
            while m < order.count, shares[order[m]].box.minX <= shares[i].box.maxX {
                let j = order[m]
                if shares[i].box.intersects(shares[j].box) && shares[i].fid != shares[j].fid { parent[find(i)] = find(j); anyGroup = true }
                m += 1
            }
        }
        guard anyGroup else { return shares }
        var groups: [Int: [Int]] = [:]
        for i in shares.indices { groups[find(i), default: []].append(i) }
        var out = shares
        let geometrySQL = table.byFid([.geometry])
        for members in groups.values where members.count > 1 {
            let parts = try members.compactMap { i -> EngineGeometry? in
                guard let blob = try Data.fetchOne(db.cachedStatement(sql: geometrySQL), arguments: [shares[i].fid]) else { return nil }
                return try engine.make(try SpatiaLiteGeometry.decode(blob))
            }
            let clipped = try unit.geometry.intersection(try engine.union(parts)).value().parts(ofDimension: 2)
            let unionArea = clipped.isEmpty ? 0 : Ellipsoid.cgcs2000.area(clipped)
            let sum = members.reduce(0) { $0 + shares[$1].area }
            // Spread the union's area over the members in proportion, keeping each one counted.
            for i in members { out[i].area = sum > 0 ? shares[i].area / sum * unionArea : 0 }
        }
        return out
    }
}
