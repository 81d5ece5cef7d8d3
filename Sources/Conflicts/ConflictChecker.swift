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
public final class ConflictChecker: @unchecked Sendable {  // the plan cache is behind a lock
    public let store: Store
    /// Overlaps at or below this are rounding, not conflicts (m²).
    public static let minimumOverlapM2 = 0.01

    /// Decoded layer specs and prepared SQL, reused while no layer has a new version:
    /// decoding the catalog on every check cost as much as the check itself.
    private var plans: (signature: String, set: LayerPlans)?
    /// The layer signature last read on each reader connection, with the connection's
    /// `PRAGMA data_version` at the time: while that is unchanged nothing was committed, so
    /// the signature is too. Reading it anew costs a fifth of a check with no candidates
    /// (each layer's row holds its whole spec, so reading `current_version` walks overflow
    /// pages); the pragma costs a tenth of that.
    private var signatures: [ObjectIdentifier: ConnectionSignature] = [:]
    private let lock = NSLock()

    struct ConnectionSignature {
        /// Weak: a connection closed and another opened at the same address must not match.
        weak var connection: Database?
        let dataVersion: Int64
        let signature: String
    }

    /// Layers up to this many features are kept decoded in memory: the red lines, zones and
    /// pipelines are few, and a scan of their boxes beats a SQL query per layer per check.
    public static let residentLimit = 20_000
    /// This checker's limit: tests lower it to hold large layers' SQL path to the resident one.
    let residentLimit: Int
    /// Whether larger layers' boxes are kept in memory (see `LayerBoxes`): for a checker that
    /// checks many sites, not one.
    let boxesInMemory: Bool

    public init(store: Store, residentLimit: Int = ConflictChecker.residentLimit, boxesInMemory: Bool = false) {
        self.store = store
        self.residentLimit = residentLimit
        self.boxesInMemory = boxesInMemory
    }

    /// The current layers and versions as this transaction sees them.
    func layerSignature(_ db: Database) throws -> String {
        // data_version counts commits by other connections only: a connection that writes
        // would not see its own loads in it, so only read-only connections use the memo.
        guard db.configuration.readonly else { return try Store.layerSignature(db) }
        // Read inside the transaction, so it is the version of this check's snapshot.
        let dataVersion = try IntegerCursor(statement: db.cachedStatement(sql: "PRAGMA data_version")).next() ?? 0
        let key = ObjectIdentifier(db)
        lock.lock()
        if let memo = signatures[key], memo.connection === db, memo.dataVersion == dataVersion {
            lock.unlock()
            return memo.signature
        }
        lock.unlock()
        let signature = try Store.layerSignature(db)
        lock.lock()
        signatures[key] = ConnectionSignature(connection: db, dataVersion: dataVersion, signature: signature)
        lock.unlock()
        return signature
    }

    func layerPlans(_ db: Database) throws -> LayerPlans {
        // Compared with what the cached plans were built from; read in this transaction, so
        // the plans match the versions this check reads.
        let signature = try layerSignature(db)
        lock.lock()
        if let plans, plans.signature == signature { lock.unlock(); return plans.set }
        lock.unlock()
        let built = LayerPlans(all: try Store.loadedLayers(db).map { try LayerPlan($0, db: db, residentLimit: residentLimit, boxesInMemory: boxesInMemory) })
        lock.lock()
        plans = (signature, built)
        lock.unlock()
        return built
    }

    /// `keepPieces: false` leaves `CheckOutcome.pieces` empty: the pieces are the geometry behind
    /// each conflict, which only the map, the report and a stored record draw, and keeping
    /// them means decoding features whose overlap is already known from their stored area.
    public func check(_ site: Site, layers wanted: [String]? = nil, keepPieces: Bool = true) throws -> CheckOutcome {
        try store.snapshot { db in try self.check(site, layers: wanted, db: db, keepPieces: keepPieces) }
    }

    public func check(_ site: Site, layers wanted: [String]?, db: Database, keepPieces: Bool = true) throws -> CheckOutcome {
        try check(site, layers: wanted, plans: try layerPlans(db), db: db, keepPieces: keepPieces)
    }

    /// The check against given plans: the current ones, or those of the versions a record names.
    func check(_ site: Site, layers wanted: [String]?, plans: LayerPlans, db: Database, keepPieces: Bool) throws -> CheckOutcome {
        let loaded = plans.all
        // Closures, not key paths, here and below: a key path literal in a generic call is
        // instantiated anew at every call, which was 3% of a check.
        if let wanted {
            let names = Set(loaded.map { $0.name })
            if let unknown = wanted.first(where: { !names.contains($0) }) {
                throw StoreError.unknownLayer(unknown, known: loaded.map { $0.name })
            }
        }
        let layers = try plans.checked(wanted)
        let engine = GeometryEngine()
        let polygons = site.geometry.polygons
        let centre = Coordinate((site.bbox.minX + site.bbox.maxX) / 2, (site.bbox.minY + site.bbox.maxY) / 2)
        let convex = polygons.count == 1 ? ConvexRegion(polygons[0]) : nil
        let context = SiteContext(site: site, engine: engine, convex: convex,
                                  region: convex == nil ? PolygonRegion(polygons) : nil,
                                  plane: LocalPlane(origin: centre), equalArea: EqualAreaPlane(centre: centre),
                                  keepPieces: keepPieces)
        var results: [CheckResult.LayerConflict] = []
        results.reserveCapacity(layers.count)
        var pieces: [ConflictPiece] = []
        var worst: Severity? = nil
        for plan in layers {
            let evaluation = try LayerEvaluation(plan: plan, context: context, engine: engine, db: db).run()
            if evaluation.result.conflict { worst = max(worst ?? evaluation.result.severity, evaluation.result.severity) }
            results.append(evaluation.result)
            if keepPieces { pieces += evaluation.pieces }
        }
        let versions = wanted == nil ? plans.ruledVersions : Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.versionRef) })
        let verdict: CheckResult.Verdict = worst.map { CheckResult.Verdict(rawValue: $0.rawValue)! } ?? .clear
        let result = CheckResult(verdict: verdict,
                                 site: .init(areaM2: site.areaM2, areaMu: AreaUnit.mu(fromM2: site.areaM2),
                                             areaHa: AreaUnit.hectares(fromM2: site.areaM2), bbox: site.bbox.array),
                                 layers: results, warnings: site.warnings)
        return CheckOutcome(result: result, site: site, pieces: pieces, versions: versions)
    }
}

/// The plans of one set of layer versions, with what every check of all layers takes from
/// them: filtering the layers and filling a dictionary of their versions, per check, showed
/// in profiles of checks with few candidates.
struct LayerPlans {
    let all: [LayerPlan]
    /// The layers with a rule, in catalog order: what a check without a layer list checks.
    let ruled: [LayerPlan]
    /// Their versions, as such a check's outcome records them.
    let ruledVersions: [String: LayerVersionRef]

    /// The first ruled layer whose rule its version cannot satisfy: what fails every check of all layers.
    let firstUnevaluable: LayerPlan?

    init(all: [LayerPlan]) {
        self.all = all
        ruled = all.filter { $0.rule != nil }
        ruledVersions = Dictionary(uniqueKeysWithValues: ruled.map { ($0.name, $0.versionRef) })
        firstUnevaluable = ruled.first { $0.unevaluable != nil }
    }

    /// The layers a check applies its rules to: every ruled layer, or those asked for. A
    /// check never answers without one of them: a layer asked for with no rule, no ruled
    /// layer at all, or a rule its version cannot satisfy is an error, not a silent pass.
    func checked(_ wanted: [String]?) throws -> [LayerPlan] {
        let layers: [LayerPlan]
        let broken: LayerPlan?
        if let wanted {
            if let unruled = all.first(where: { $0.rule == nil && wanted.contains($0.name) }) {
                throw StoreError.invalidRequest("layer '\(unruled.name)' has no rule, so a check cannot apply it; layers with rules: "
                    + ruled.map { $0.name }.joined(separator: ", "))
            }
            layers = ruled.filter { wanted.contains($0.name) }
            broken = layers.first { $0.unevaluable != nil }
        } else {
            layers = ruled
            broken = firstUnevaluable
        }
        guard !layers.isEmpty else {
            throw StoreError.cannotCheck("no loaded layer has a rule, so there is nothing to check a site against; load the catalog (onemap load)")
        }
        if let broken {
            throw StoreError.cannotCheck("layer '\(broken.name)' version \(broken.versionRef.version) (\(broken.versionRef.label)): "
                + "its rule cannot be applied, \(broken.unevaluable!); load a version that fits the rule")
        }
        return layers
    }
}

/// A layer's rule, held by reference: each layer's evaluation in every check reads it, and
/// copying the struct (its message, field name and table of values) into each showed in
/// profiles.
final class LayerRule {
    let severity: Severity
    let when: Rule.When
    let bufferM: Double?
    let byField: Rule.ByField?

    init(_ rule: Rule) {
        severity = rule.severity
        when = rule.when
        bufferM = rule.bufferM
        byField = rule.byField
    }
}

/// What a check needs to know about a layer, worked out once per layer version.
final class LayerPlan {
    let layer: LoadedLayer
    /// Copied out of `layer` once: reading them through it copied the whole spec and version
    /// (a few dozen references) in every check.
    let name: String
    let title: String
    let rule: LayerRule?
    let isPolygonal: Bool
    let fields: LayerFields
    let versionRef: LayerVersionRef
    /// Why the rule cannot be applied to this version, if it cannot; checks then fail.
    let unevaluable: String?
    /// Candidates by bounding box through the R*Tree, with all their attributes: one query
    /// per layer instead of one more per conflicting feature (the attributes are read from
    /// the row only for features that conflict).
    ///
    /// Testing the site's edges against the R*Tree's boxes in this query too, to skip the row
    /// lookups of boxes in the corners of the site's box (a quarter of the candidates), was
    /// measured: the expressions on every R*Tree row and their 20 more arguments cost what
    /// the lookups saved, the rows of neighbouring parcels sharing pages.
    let candidatesSQL: String
    /// Every feature with its box, for small layers; nil for large ones (read through SQL).
    let resident: [LayerEvaluation.Candidate]?
    /// A large layer's boxes, when the checker keeps them; else its R*Tree is searched.
    let boxes: LayerBoxes?

    init(_ layer: LoadedLayer, db: Database, residentLimit: Int, boxesInMemory: Bool) throws {
        self.layer = layer
        name = layer.name
        title = layer.spec.title
        rule = layer.spec.rule.map(LayerRule.init)
        let table = layer.version.tableName
        isPolygonal = layer.version.geometryType.contains("Polygon")
        fields = LayerFields(names: layer.version.fields.map { $0.name })
        versionRef = LayerVersionRef(version: layer.version.number, label: layer.version.label)
        unevaluable = layer.spec.rule?.problem(fields: fields.names, dimension: layer.version.dimension)
        let columns = CandidateRow.columns(fields: fields.names)
        let select = "SELECT \(columns) FROM \"\(table)\" AS t"
        // A join, not `om_fid IN (SELECT pkid …)`: SQLite builds a temporary b-tree for the
        // IN list on every query, which cost more than the R*Tree search itself.
        candidatesSQL = """
            SELECT \(columns)
            FROM "idx_\(table)_geom" AS r JOIN "\(table)" AS t ON t.om_fid = r.pkid
            WHERE r.xmax >= ? AND r.xmin <= ? AND r.ymax >= ? AND r.ymin <= ?
            """
        if layer.spec.rule != nil && layer.version.count <= residentLimit {
            var resident: [LayerEvaluation.Candidate] = []
            let rows = try CandidateCursor(statement: db.makeStatement(sql: select), arguments: [], fields: fields)
            while let row = try rows.next() {
                let found = LayerEvaluation.Found(row: row)
                resident.append(try found.kept(decoded: try found.geometry()))
            }
            self.resident = resident
            boxes = nil
        } else {
            resident = nil
            boxes = layer.spec.rule != nil && boxesInMemory ? try LayerBoxes(table: table, columns: columns, db: db) : nil
        }
    }
}

/// One layer checked against one site.
struct LayerEvaluation {
    let plan: LayerPlan
    let rule: LayerRule
    let context: SiteContext
    let engine: GeometryEngine
    let db: Database
    let ellipsoid = Ellipsoid.cgcs2000

    init(plan: LayerPlan, context: SiteContext, engine: GeometryEngine, db: Database) {
        self.plan = plan
        self.rule = plan.rule!
        self.context = context
        self.engine = engine
        self.db = db
    }

    /// A feature kept for the answer: a conflict, or a resident feature.
    struct Candidate {
        let fid: Int64
        let id: String
        let areaM2: Double
        let box: BoundingBox
        let shape: Shape
        /// All attributes, by field name.
        let properties: [String: AttributeValue]

        enum Shape {
            case decoded(Geometry)
            /// The SpatiaLite blob of a feature wholly inside the site, when no pieces are
            /// kept: its overlap is its stored area, so it is decoded only if a union of
            /// overlapping features needs it.
            case encoded(Data)
        }

        func geometry() throws -> Geometry {
            switch shape {
            case .decoded(let g): return g
            case .encoded(let blob): return try SpatiaLiteGeometry.decode(blob)
            }
        }
    }

    /// A feature as the search found it: resident, or the cursor's current row, valid only
    /// until the cursor moves. Its id, attributes (strings) and geometry are read from the
    /// row only when needed, most of all only for features that conflict: reading every
    /// candidate whole cost more than deciding which ones conflict.
    struct Found {
        let fid: Int64
        let areaM2: Double
        let box: BoundingBox
        let source: Source
        /// Where the box lies against a site that is not convex, when the search placed it.
        var placement: PolygonRegion.Placement? = nil

        enum Source {
            case resident(Candidate)
            case row(CandidateRow)
        }

        init(resident c: Candidate) {
            fid = c.fid; areaM2 = c.areaM2; box = c.box; source = .resident(c)
        }

        init(row: CandidateRow) {
            fid = row.fid
            areaM2 = row.areaM2
            box = row.box
            source = .row(row)
        }

        func geometry() throws -> Geometry {
            switch source {
            case .resident(let c): return try c.geometry()
            case .row(let row): return try row.geometry(fid: fid)
            }
        }

        /// The feature kept for the answer, with its id and attributes; its geometry as
        /// decoded already, else its blob.
        func kept(decoded: Geometry?) throws -> Candidate {
            switch source {
            case .resident(let c): return c
            case .row(let row):
                let shape: Candidate.Shape
                if let decoded { shape = .decoded(decoded) } else { shape = .encoded(try row.blob(fid: fid)) }
                return Candidate(fid: fid, id: row.id, areaM2: areaM2, box: box, shape: shape, properties: row.properties)
            }
        }
    }

    /// Calls `body` with each feature whose box comes within `margin` degrees of the site's
    /// box. Without a margin and with a convex site, a box the site cannot reach (a corner of
    /// the site's box, for a rotated rectangle) is dropped before anything else is read.
    /// The R*Tree gives rows in its own order: callers sort what they keep by fid, so features
    /// with equal overlaps are listed the same way in every check.
    func forEachCandidate(margin: (lon: Double, lat: Double) = (0, 0), _ body: (Found) throws -> Void) throws {
        let b = context.site.bbox
        let query = BoundingBox(b.minX - margin.lon, b.minY - margin.lat, b.maxX + margin.lon, b.maxY + margin.lat)
        let convex = margin == (0, 0) ? context.convex : nil
        let region = margin == (0, 0) ? context.region : nil
        /// The candidate with its placement, or nil when its box cannot reach the site.
        func placed(_ found: Found) -> Found? {
            if let convex { return convex.isDisjoint(from: found.box) ? nil : found }
            guard let region else { return found }
            var found = found
            found.placement = region.placement(of: found.box)
            return found.placement == .outside ? nil : found
        }
        if let resident = plan.resident {
            for c in resident where c.box.intersects(query) {
                if let found = placed(Found(resident: c)) { try body(found) }
            }
            return
        }
        if let boxes = plan.boxes {
            let queries = region == nil ? [query] : context.cover() ?? [query]
            // Placed once, from the index's box (the row's own, exactly), before the row is read.
            let hits = boxes.search(queries) { box -> PolygonRegion.Placement? in
                if let convex { return convex.isDisjoint(from: box) ? nil : .boundary }
                guard let region else { return .boundary }
                let placement = region.placement(of: box)
                return placement == .outside ? nil : placement
            }
            let lookup = RowByKey(try db.cachedStatement(sql: boxes.rowSQL))
            for hit in hits {
                try lookup.withRow(key: hit.fid) { statement in
                    var found = Found(row: CandidateRow(statement: statement, fields: plan.fields))
                    if region != nil { found.placement = hit.tag }
                    try body(found)
                }
            }
            return
        }
        let statement = try db.cachedStatement(sql: plan.candidatesSQL)
        guard let cover = region == nil ? nil : context.cover() else {
            let rows = try CandidateCursor(statement: statement, arguments: [query.minX, query.maxX, query.minY, query.maxY], fields: plan.fields)
            while let row = try rows.next() {
                if let found = placed(Found(row: row)) { try body(found) }
            }
            return
        }
        // A feature whose box reaches into several of the cover's boxes comes up once each.
        var seen = Set<Int64>()
        for b in cover {
            let rows = try CandidateCursor(statement: statement, arguments: [b.minX, b.maxX, b.minY, b.maxY], fields: plan.fields)
            while let row = try rows.next() {
                guard seen.insert(row.fid).inserted else { continue }
                if let found = placed(Found(row: row)) { try body(found) }
            }
        }
    }

    /// Every candidate, decoded, by fid.
    func candidates(margin: (lon: Double, lat: Double) = (0, 0)) throws -> [Candidate] {
        var out: [Candidate] = []
        try forEachCandidate(margin: margin) { out.append(try $0.kept(decoded: try $0.geometry())) }
        out.sort { $0.fid < $1.fid }
        return out
    }

    func severity(_ properties: [String: AttributeValue]) -> Severity {
        guard let by = rule.byField else { return rule.severity }
        return by.severity(of: properties[by.field]?.stringValue) ?? rule.severity
    }

    func run() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        if plan.isPolygonal && rule.bufferM == nil { return try areal() }
        return try proximity()
    }

    // MARK: Polygon layers: overlap (inside) or uncovered part (outside)

    func areal() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        var overlaps: [Overlap] = []
        overlaps.reserveCapacity(16)
        try forEachCandidate { found in
            if let o = try overlap(found) { overlaps.append(o) }
        }
        // The boxes' search gives them by fid already; sorting moves whole answers otherwise.
        if zip(overlaps, overlaps.dropFirst()).contains(where: { $0.candidate.fid > $1.candidate.fid }) {
            overlaps.sort { $0.candidate.fid < $1.candidate.fid }
        }
        let keepPieces = context.keepPieces
        var features: [CheckResult.FeatureConflict] = []
        features.reserveCapacity(overlaps.count)
        var pieces: [ConflictPiece] = []
        var worstFeature: Severity? = nil
        for o in overlaps {
            let c = o.candidate
            let props = c.properties
            let sev = rule.when == .inside ? severity(props) : nil
            if let sev { worstFeature = max(worstFeature ?? sev, sev) }
            features.append(.init(id: c.id, severity: sev, overlapAreaM2: o.area, minDistanceM: nil, lengthM: nil, properties: props))
            guard keepPieces else { continue }
            let geometry = try c.geometry()
            pieces.append(ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .feature, geometry: geometry, areaM2: c.areaM2))
            if rule.when == .inside {
                pieces.append(ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .overlap, geometry: o.piece ?? geometry, areaM2: o.area))
            }
        }
        let covered = try unionArea(overlaps)
        let siteArea = context.site.areaM2
        var outside: Double? = nil
        var conflict: Bool
        if rule.when == .outside {
            let outsideArea = max(0, siteArea - covered)
            outside = outsideArea
            conflict = outsideArea > ConflictChecker.minimumOverlapM2
            if conflict && keepPieces {
                // The uncovered part, for the map: the site less the features it touches.
                let rest = overlaps.isEmpty ? context.site.geometry
                    : try context.geometry().difference(try engine.union(try overlaps.map { try engine.make(try $0.candidate.geometry()) })).value().parts(ofDimension: 2)
                pieces.append(ConflictPiece(layer: plan.name, featureId: nil, severity: rule.severity, role: .outside, geometry: rest, areaM2: outsideArea))
            }
        } else {
            conflict = !features.isEmpty
        }
        features = CheckResult.FeatureConflict.worstFirst(features)
        // The layer's severity is the worst of its conflicting features (by_field), else its rule's.
        let layerSeverity = rule.when == .inside ? (worstFeature ?? rule.severity) : rule.severity
        let result = CheckResult.LayerConflict(layer: plan.name, title: plan.title, version: plan.versionRef.version,
                                               versionLabel: plan.versionRef.label, severity: layerSeverity, conflict: conflict,
                                               overlapAreaM2: covered, overlapRatio: siteArea > 0 ? covered / siteArea : 0,
                                               outsideAreaM2: outside, features: features)
        return (result, pieces)
    }

    /// A feature overlapping the site by more than the minimum.
    struct Overlap {
        let candidate: Candidate
        /// The part inside the site; nil when that is the whole feature.
        let piece: Geometry?
        let area: Double
        /// The piece's box.
        let box: BoundingBox
    }

    /// The part of a feature inside the site and its ellipsoidal area, if over the minimum.
    func overlap(_ found: Found) throws -> Overlap? {
        let minimum = ConflictChecker.minimumOverlapM2
        /// A feature wholly inside the site overlaps by its precomputed area.
        func whole(_ decoded: Geometry?) throws -> Overlap? {
            guard found.areaM2 > minimum else { return nil }
            return Overlap(candidate: try found.kept(decoded: decoded), piece: nil, area: found.areaM2, box: found.box)
        }
        /// The feature clipped by a convex region that holds all of the site near it: its
        /// overlap, `.some(nil)` for none, or nil when clipping would not measure it exactly.
        func clipped(by region: ConvexRegion, _ geometry: Geometry) throws -> Overlap?? {
            let polygons = geometry.polygons
            if polygons.allSatisfy({ region.containsStrictly($0.exterior) }) { return try whole(geometry) }
            // A concave feature can leave and re-enter the region: its clip is then joined by
            // zero-width bridges along the region's edge, whose edges are cut at other points
            // each way, and the area's geodesic bow terms no longer cancel (~1e-3 m² on a
            // 300 m edge). Such features, and those with holes, are overlaid instead.
            guard polygons.allSatisfy({ $0.rings.count == 1 && ConvexRegion($0) != nil }) else { return nil }
            // From here the clip is exact: no piece, or too small a one, is no overlap.
            let parts = polygons.compactMap { region.clip($0) }
            guard !parts.isEmpty else { return .some(nil) }
            let piece = Geometry.multiPolygon(parts)
            let area = context.area(of: piece)
            guard area > minimum, let box = piece.boundingBox else { return .some(nil) }
            return Overlap(candidate: try found.kept(decoded: geometry), piece: piece, area: area, box: box)
        }
        /// The overlap by GEOS's overlay with `site` (all of it, or its part near the feature).
        func overlaid(_ geometry: Geometry, with site: EngineGeometry, made: EngineGeometry? = nil) throws -> Overlap? {
            let piece = try site.intersection(try made ?? engine.make(geometry)).value().parts(ofDimension: 2)
            let area = context.area(of: piece)
            guard area > minimum, let box = piece.boundingBox else { return nil }
            return Overlap(candidate: try found.kept(decoded: geometry), piece: piece, area: area, box: box)
        }
        /// The overlap's area summed along its boundary, when no piece is kept (see
        /// `PolygonRegion.overlapArea`): `.some(nil)` for none, nil when it cannot be summed.
        func summed(_ geometry: Geometry) throws -> Overlap?? {
            guard !context.keepPieces, let edges = context.edges(),
                  let area = edges.overlapArea(with: geometry.polygons, box: found.box, spanLimitM: SiteContext.equalAreaSpanLimitM)
            else { return nil }
            guard area > minimum else { return .some(nil) }
            // The piece's box, for telling which overlaps may overlap each other: the part of
            // the feature's box in the site's, which holds it (an overlap means they meet).
            let box = found.box.intersection(context.site.bbox) ?? found.box
            return Overlap(candidate: try found.kept(decoded: geometry), piece: nil, area: area, box: box)
        }
        if let region = context.convex {
            // Told from the stored box, without decoding: a convex site holding the box's
            // corners holds all of it.
            if region.containsStrictly(found.box) { return try whole(context.keepPieces ? try found.geometry() : nil) }
            let geometry = try found.geometry()
            if let overlap = try summed(geometry) { return overlap }
            if let overlap = try clipped(by: region, geometry) { return overlap }
            return try overlaid(geometry, with: try context.geometry())
        }
        // A box wholly inside a site of any shape: the feature is too.
        if found.placement == .inside { return try whole(context.keepPieces ? try found.geometry() : nil) }
        let geometry = try found.geometry()
        if found.placement == .boundary, let overlap = try summed(geometry) { return overlap }
        let g = try engine.make(geometry)
        if try context.prepared().containsProperly(g) { return try whole(geometry) }
        guard try context.prepared().intersects(g) else { return nil }
        let local = try context.local(around: found.box)
        // Near one feature, most of a corridor or a ragged park is a convex strip or corner:
        // clipped in Swift, as a convex site is, instead of a general overlay.
        if let region = local.convex, let overlap = try clipped(by: region, geometry) { return overlap }
        return try overlaid(geometry, with: local.geometry, made: g)
    }

    /// The area of the union of overlap pieces, without double counting where a layer's
    /// features overlap each other; pieces whose boxes are apart are simply added.
    func unionArea(_ overlaps: [Overlap]) throws -> Double {
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
        // Groups by root, in ascending order of root: a fixed order, so the total is the same
        // in every run to its last digit. Counted in an array, not gathered in a dictionary of
        // arrays: that dictionary was a twentieth of a check. A piece alone is its own root.
        let roots = overlaps.indices.map { find($0) }
        var sizes = [Int](repeating: 0, count: overlaps.count)
        for r in roots { sizes[r] += 1 }
        // Each group's members in index order, laid out by counting: group `root` is
        // `grouped[start[root] ..< start[root] + sizes[root]]`. Linear, where picking each
        // group's members out of all pieces was quadratic on a site over many touching parcels.
        var start = [Int](repeating: 0, count: overlaps.count + 1)
        for r in overlaps.indices { start[r + 1] = start[r] + sizes[r] }
        var grouped = [Int](repeating: 0, count: overlaps.count)
        var next = start
        for i in overlaps.indices { grouped[next[roots[i]]] = i; next[roots[i]] += 1 }
        var total = 0.0
        for (root, size) in sizes.enumerated() where size > 0 {
            if size == 1 { total += overlaps[root].area; continue }
            let members = grouped[start[root] ..< start[root] + size]
            // Clipped pieces may carry zero-width bridges GEOS would reject: overlay the
            // features themselves with the site instead, which is always valid.
            let union = try engine.union(try members.map { try engine.make(try overlaps[$0].candidate.geometry()) })
            let part = try context.geometry().intersection(union).value().parts(ofDimension: 2)
            total += part.isEmpty ? 0 : context.area(of: part)
        }
        return total
    }

    // MARK: Line and point layers: distance to the site (buffer_m)

    func proximity() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        let buffer = rule.bufferM ?? 0
        let plane = context.plane
        let margin = plane.degrees(forMetres: buffer + 1)
        var features: [CheckResult.FeatureConflict] = []
        var pieces: [ConflictPiece] = []
        var corridors: [EngineGeometry] = []
        // The box the candidates were found with. A line's segments outside it are farther
        // than the buffer from the site, so only those inside are measured and buffered.
        let b = context.site.bbox
        let window = BoundingBox(b.minX - margin.lon, b.minY - margin.lat, b.maxX + margin.lon, b.maxY + margin.lat)
        for c in try candidates(margin: margin) {
            let geometry = try c.geometry()
            let near: Geometry
            if geometry.dimension == 1 {
                guard let clipped = LineWindow.clip(geometry, to: window) else { continue }
                near = clipped
            } else {
                near = geometry
            }
            let g = try engine.make(near)
            var distance: Double
            var length: Double? = nil
            var inside: Geometry? = nil
            if try context.prepared().intersects(g) {
                distance = 0
                if geometry.dimension == 1 {
                    let part = try context.geometry().intersection(g).value()
                    length = ellipsoid.length(part)
                    inside = .multiLineString(part.lineStrings)
                } else if geometry.dimension == 2 {
                    inside = try context.geometry().intersection(g).value().parts(ofDimension: 2)
                }
            } else {
                // Nearest points in the local plane, then the geodesic distance between them.
                let (a, b) = try context.planeGeometry().nearestPoints(try engine.make(plane.toPlane(near)))
                distance = ellipsoid.distance(plane.toLonLat(a), plane.toLonLat(b))
                if geometry.dimension == 1 { length = 0 }
            }
            guard distance < buffer || (buffer == 0 && distance == 0) else { continue }
            let props = c.properties
            let sev = severity(props)
            let overlap = geometry.dimension == 2 ? (inside.map { context.area(of: $0) } ?? 0) : 0
            features.append(.init(id: c.id, severity: sev, overlapAreaM2: overlap, minDistanceM: distance, lengthM: length, properties: props))
            if context.keepPieces {
                pieces.append(ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .feature, geometry: geometry, areaM2: 0))
            }
            if context.keepPieces, let inside, !inside.isEmpty {
                pieces.append(ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .overlap, geometry: inside, areaM2: overlap))
            }
            if buffer > 0 { corridors.append(try engine.make(plane.toPlane(near)).buffer(buffer, quadrantSegments: 8)) }
        }
        // How much of the site lies in the protection corridor.
        var corridorArea = 0.0
        if !corridors.isEmpty {
            let corridor = try engine.make(plane.toLonLat(try engine.union(corridors).value()))
            let part = try context.geometry().intersection(corridor).value().parts(ofDimension: 2)
            corridorArea = part.isEmpty ? 0 : context.area(of: part)
            if corridorArea > 0 && context.keepPieces {
                pieces.append(ConflictPiece(layer: plan.name, featureId: nil, severity: rule.severity, role: .corridor, geometry: part, areaM2: corridorArea))
            }
        }
        features.sort { ($0.minDistanceM ?? 0, $0.id) < ($1.minDistanceM ?? 0, $1.id) }
        let siteArea = context.site.areaM2
        let result = CheckResult.LayerConflict(layer: plan.name, title: plan.title, version: plan.versionRef.version,
                                               versionLabel: plan.versionRef.label, severity: features.compactMap { $0.severity }.max() ?? rule.severity,
                                               conflict: !features.isEmpty, overlapAreaM2: corridorArea,
                                               overlapRatio: siteArea > 0 ? corridorArea / siteArea : 0,
                                               outsideAreaM2: nil, features: features)
        return (result, pieces)
    }
}
