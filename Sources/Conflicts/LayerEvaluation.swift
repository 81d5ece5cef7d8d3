import Foundation
import GRDB
import GeoCore
import LayerStore

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
        self.rule = plan.rule ?? .measuring
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

            func geometry() throws -> Geometry {
                switch self {
                case .decoded(let g): return g
                case .encoded(let blob): return try SpatiaLiteGeometry.decode(blob)
                }
            }
        }

        func geometry() throws -> Geometry { try shape.geometry() }
    }

    /// A feature as the search found it: resident, or the cursor's current row, valid only
    /// until the cursor moves. Its id, attributes (strings) and geometry are read from the
    /// row only when needed, most of all only for features that conflict: reading every
    /// candidate whole costs more than deciding which ones conflict.
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
            case packed(PackedRow)
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

        init(packed row: PackedRow, fid: Int64, box: BoundingBox) {
            self.fid = fid
            areaM2 = row.areaM2
            self.box = box
            source = .packed(row)
        }

        /// One attribute, read alone: what a land-use rule's 地类 test needs of every candidate.
        func attribute(_ name: String) -> AttributeValue? {
            switch source {
            case .resident(let c): return c.properties[name]
            case .row(let row): return row.attribute(name)
            case .packed(let row): return row.attribute(name)
            }
        }

        func geometry() throws -> Geometry {
            switch source {
            case .resident(let c): return try c.geometry()
            case .row(let row): return try row.geometry(fid: fid)
            case .packed(let row): return try row.geometry(fid: fid)
            }
        }

        /// The feature kept for the answer, with its id and attributes; its geometry as
        /// decoded already, else its blob.
        func kept(decoded: Geometry?) throws -> Candidate {
            switch source {
            case .resident(let c): return c
            case .row(let row):
                return Candidate(
                    fid: fid, id: row.id, areaM2: areaM2, box: box, shape: try shape(decoded: decoded), properties: row.properties)
            case .packed(let row):
                return Candidate(
                    fid: fid, id: row.id, areaM2: areaM2, box: box, shape: try shape(decoded: decoded), properties: row.properties)
            }
        }

        /// The geometry kept beyond the search: as decoded already, else a copy of the blob.
        func shape(decoded: Geometry?) throws -> Candidate.Shape {
            if let decoded { return .decoded(decoded) }
            switch source {
            case .resident(let c): return c.shape
            case .row(let row): return .encoded(try row.blob(fid: fid))
            case .packed(let row): return .encoded(try row.blob(fid: fid))
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
            if let index = plan.residentIndex {
                var hits: [Int] = []
                index.search(query) { i, _ in hits.append(i) }
                // In the layer's order, as the scan below gives them.
                hits.sort()
                for i in hits where resident[i].box.intersects(query) {
                    if let found = placed(Found(resident: resident[i])) { try body(found) }
                }
                return
            }
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
            if let rows = boxes.rows {
                for hit in hits {
                    var found = Found(packed: PackedRow(rows: rows, item: hit.item), fid: hit.fid, box: hit.box)
                    if region != nil { found.placement = hit.tag }
                    try body(found)
                }
                return
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
            try StatementRows(statement).forEach(arguments: [query.minX, query.maxX, query.minY, query.maxY]) { s in
                if let found = placed(Found(row: CandidateRow(statement: s, fields: plan.fields))) { try body(found) }
            }
            return
        }
        // A feature whose box reaches into several of the cover's boxes comes up once each.
        var seen = Set<Int64>()
        for b in cover {
            try StatementRows(statement).forEach(arguments: [b.minX, b.maxX, b.minY, b.maxY]) { s in
                let row = CandidateRow(statement: s, fields: plan.fields)
                guard seen.insert(row.fid).inserted else { return }
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

    /// The layer's answer and map pieces, and for a layer measured by overlap area its
    /// overlaps (the land-use answer's farmland by 地类 starts from the farmland layer's).
    func run() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece], overlaps: [Overlap]?) {
        if plan.isPolygonal && rule.bufferM == nil { return try areal() }
        let (result, pieces) = try proximity()
        return (result, pieces, nil)
    }
}
