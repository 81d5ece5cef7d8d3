import Foundation
import GRDB
import GeoCore
import LayerStore

/// The topology of a wall-to-wall land-use layer: every point of the city should lie in exactly
/// one 图斑. Reports where that fails by more than a minimum area (1 m² by default): 图斑 that
/// overlap (each pair once, with the area and the shape of their common part) and gaps — land
/// inside the city boundary that no 图斑 covers — each with its area, its place and its county.
///
/// Overlaps: each 图斑 against the later ones (by fid) its box meets, through the R*Tree; two
/// 图斑 that only share an edge touch, and are skipped without an overlay. Gaps: the boundary is
/// cut into cells of about 5 km, and each cell's part of it, less the union of the 图斑 there,
/// is what no 图斑 covers (a gap across cell lines is reported as one piece per cell).
public struct LandUseTopology {
    public struct Finding: Sendable {
        /// "overlap" or "gap".
        public var kind: String
        /// The two 图斑 of an overlap; empty for a gap.
        public var ids: [String]
        public var areaM2: Double
        /// A point inside it (lon, lat, GEOS's point on surface), and the county there.
        public var place: Coordinate
        public var county: String?
        public var geometry: Geometry
    }

    public struct Report: Sendable {
        public var layer: String
        public var version: Int
        public var features: Int
        /// Where the gaps were looked for: the union of the admin layer's counties.
        public var boundary: String
        public var minimumAreaM2: Double
        public var findings: [Finding]
        public var seconds: Double
        public var overlaps: [Finding] { findings.filter { $0.kind == "overlap" } }
        public var gaps: [Finding] { findings.filter { $0.kind == "gap" } }
    }

    public let store: Store
    public init(store: Store) { self.store = store }

    /// Gap cells, degrees.
    static let cell = 0.05

    /// A caller that reads the layer only within a scope (a restricted layer, a scoped caller)
    /// is told of the overlaps and gaps that meet its scope's ground, and of its part's 图斑.
    public func run(layer name: String, minimumAreaM2: Double = 1, for caller: Caller = .anonymous) throws -> Report {
        let started = Date()
        let (layer, maxFid, boundaryName, cells) = try store.pool.read { db in
            let visible = try caller.readableLayers(db)
            let layer = try caller.require([name], among: visible)[0]
            guard layer.spec.kind == .landUse else {
                throw StoreError.invalidRequest(
                    "\(name) is not a land-use layer (kind: land_use): only a wall-to-wall layer has gaps and overlaps to report")
            }
            let maxFid = try Int64.fetchOne(db, sql: "SELECT max(om_fid) FROM \(FeatureTable.quote(FeatureTable(layer.version).name))") ?? 0
            let units = try? AdminUnits(db: db, by: "county", among: visible, engine: GeometryEngine())
            let (boundary, boundaryName) = try Self.boundary(units: units, of: layer, db: db, engine: GeometryEngine())
            return (layer, maxFid, boundaryName, try boundary.map { try Self.cells(of: $0.value()) } ?? [])
        }
        // Both passes split over the cores (fid ranges, then runs of gap cells), each part in a
        // read transaction of its own with a GEOS context of its own: 141 s at 2.35 million 图斑
        // on one core. The parts are joined in order, so the findings come in the same order
        // however many cores there are.
        let workers = Cores.workers
        let chunk = maxFid / Int64(workers) + 1
        let store = self.store
        let findings = try Cores.inParts(2 * workers) { k in
            try store.pool.read { db in
                var pass = try Pass(
                    db: db, visible: try caller.readableLayers(db), layer: layer, minimumAreaM2: minimumAreaM2)
                if k < workers {
                    try pass.overlaps(fids: Int64(k) * chunk + 1...Int64(k + 1) * chunk)
                } else {
                    let per = cells.count / workers + 1, first = min(cells.count, (k - workers) * per)
                    try pass.gaps(in: cells[first..<min(cells.count, first + per)])
                }
                return pass.findings
            }
        }
        var report = Report(
            layer: name, version: layer.version.number, features: layer.version.count, boundary: boundaryName,
            minimumAreaM2: minimumAreaM2, findings: findings, seconds: Date().timeIntervalSince(started))
        if case .withinScope(let scope) = caller.sight(of: layer) { try cut(&report, to: scope, layer: layer) }
        return report
    }

    /// The report as a scoped caller reads it: the findings that meet its scope's ground, and
    /// the count of its part's 图斑.
    private func cut(_ report: inout Report, to scope: DataScope, layer: LoadedLayer) throws {
        try store.pool.read { db in
            report.features = try store.scopeCut(scope, of: layer, db).count
            guard let ground = try store.scopeGround(scope, db) else {
                report.findings = []
                return
            }
            let engine = GeometryEngine()
            let prepared = try engine.make(ground).prepared()
            // Within the ground, not only touching it: a gap beside the county line is the neighbour's.
            report.findings = try report.findings.filter {
                let g = try engine.make($0.geometry)
                return try prepared.intersects(g) && !(try prepared.touches(g))
            }
        }
    }

    /// A part of the work: its findings, with the place's county.
    struct Pass {
        let db: Database
        let engine = GeometryEngine()
        let table: FeatureTable
        let units: AdminUnits?
        let boundary: EngineGeometry?
        let minimumAreaM2: Double
        var findings: [Finding] = []

        init(db: Database, visible: [LoadedLayer], layer: LoadedLayer, minimumAreaM2: Double) throws {
            self.db = db
            table = FeatureTable(layer.version)
            units = try? AdminUnits(db: db, by: "county", among: visible, engine: engine)
            boundary = try LandUseTopology.boundary(units: units, of: layer, db: db, engine: engine).0
            self.minimumAreaM2 = minimumAreaM2
        }

        func county(_ p: Coordinate) throws -> String? { try units.flatMap { u in try u.unit(at: p).map { u.units[$0].code } } }

        /// Overlaps of the 图斑 in `fids` with later ones, each pair once.
        mutating func overlaps(fids: ClosedRange<Int64>) throws {
            let later = table.inBox([.fid, .id, .geometry], byFid: true)
            let all = try Row.fetchCursor(
                db, sql: table.select([.fid, .id, .geometry], where: ["om_fid BETWEEN ? AND ?"]),
                arguments: [fids.lowerBound, fids.upperBound])
            while let row = try all.next() {
                let fid: Int64 = row[0]
                let g = try SpatiaLiteGeometry.decode(row[2])
                guard let box = g.boundingBox else { continue }
                let eg = try engine.make(g)
                let prepared = try eg.prepared()
                let candidates = try Row.fetchCursor(db.cachedStatement(sql: later), arguments: [box.minX, box.maxX, box.minY, box.maxY])
                while let c = try candidates.next() {
                    let other: Int64 = c[0]
                    guard other > fid else { continue }
                    let og = try engine.make(try SpatiaLiteGeometry.decode(c[2]))
                    guard try prepared.intersects(og), !(try prepared.touches(og)) else { continue }
                    let common = try eg.intersection(og).value().parts(ofDimension: 2)
                    guard !common.isEmpty else { continue }
                    let area = Ellipsoid.cgcs2000.area(common)
                    guard area > minimumAreaM2, let place = try engine.make(common).pointOnSurface() else { continue }
                    findings.append(
                        Finding(
                            kind: "overlap", ids: [row[1], c[1]], areaM2: area, place: place, county: try county(place), geometry: common))
                }
            }
        }

        /// Gaps inside the boundary, in these cells: each cell's part of it less the 图斑 there.
        mutating func gaps(in cells: ArraySlice<BoundingBox>) throws {
            guard let boundary else { return }
            let inCell = table.inBox([.geometry])
            for cell in cells {
                let region = try boundary.clipped(to: cell)
                guard !region.isEmpty, try region.planarArea() > 0 else { continue }
                let parts = try Row.fetchAll(db.cachedStatement(sql: inCell), arguments: [cell.minX, cell.maxX, cell.minY, cell.maxY])
                    .map { try engine.make(try SpatiaLiteGeometry.decode($0[0])) }
                let open = parts.isEmpty ? region : try region.difference(try engine.union(parts))
                for piece in try open.value().parts(ofDimension: 2).polygons {
                    let g = Geometry.polygon(piece)
                    let area = Ellipsoid.cgcs2000.area(g)
                    guard area > minimumAreaM2, let place = try engine.make(g).pointOnSurface() else { continue }
                    findings.append(Finding(kind: "gap", ids: [], areaM2: area, place: place, county: try county(place), geometry: g))
                }
            }
        }
    }

    /// The gap cells over the boundary's box, row by row.
    static func cells(of boundary: Geometry) -> [BoundingBox] {
        guard let bbox = boundary.boundingBox else { return [] }
        var cells: [BoundingBox] = []
        var y = bbox.minY
        while y < bbox.maxY {
            var x = bbox.minX
            while x < bbox.maxX {
                cells.append(BoundingBox(x, y, min(x + cell, bbox.maxX), min(y + cell, bbox.maxY)))
                x += cell
            }
            y += cell
        }
        return cells
    }

    /// Where the layer should be wall to wall: the union of the admin layer's counties (the
    /// ledger's units) that its 图斑 name in their 坐落单位代码 (ZLDWDM's first six digits), or
    /// of all of them when it names none of theirs. A county's own 三调 loaded into a city's
    /// database is then checked over that county, not reported as leaving the others bare.
    static func boundary(units: AdminUnits?, of layer: LoadedLayer, db: Database, engine: GeometryEngine) throws -> (
        EngineGeometry?, String
    ) {
        guard let units, !units.units.isEmpty else { return (nil, "none (no admin layer is loaded: gaps not looked for)") }
        // The load's sums by village hold every code the layer names, without reading its rows.
        let named = Set(
            (try? String.fetchAll(
                db,
                sql:
                    "SELECT DISTINCT substr(unit, 1, 6) FROM \(FeatureTable.quote(LandUseUnits.table(of: FeatureTable(layer.version).name)))"
            ))
                ?? [])
        let counties = units.units.filter { named.contains($0.code) }
        if counties.isEmpty {
            return (
                try engine.union(units.units.map(\.geometry)),
                "\(units.layer.name): the union of its \(units.units.count) \(units.level) units"
            )
        }
        let codes = counties.map(\.code).joined(separator: ", ")
        let name =
            "\(units.layer.name): the union of the \(counties.count) of its \(units.units.count) \(units.level) units the layer's "
            + "坐落单位代码 name (\(codes))"
        return (try engine.union(counties.map(\.geometry)), name)
    }
}
