import GeoCore
import LayerStore

/// Polygon layers: the site's overlap with the layer (`inside`), or the part of the site the
/// layer does not cover (`outside`).
extension LayerEvaluation {
    func areal() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece], overlaps: [Overlap]) {
        var overlaps: [Overlap] = []
        overlaps.reserveCapacity(16)
        // A land-use rule names its 地类: 图斑 of other codes are not part of it.
        let ruledCodes = plan.ruledCodes
        try forEachCandidate { found in
            if let ruledCodes, !ruledCodes.codes.contains(found.attribute(ruledCodes.field)?.stringValue ?? "") { return }
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
            pieces.append(
                ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .feature, geometry: geometry, areaM2: c.areaM2))
            if rule.when == .inside {
                pieces.append(
                    ConflictPiece(
                        layer: plan.name, featureId: c.id, severity: sev, role: .overlap, geometry: o.piece ?? geometry, areaM2: o.area))
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
                let rest =
                    overlaps.isEmpty
                    ? context.site.geometry
                    : try context.geometry().difference(try engine.union(try overlaps.map { try engine.make(try $0.candidate.geometry()) }))
                        .value().parts(ofDimension: 2)
                pieces.append(
                    ConflictPiece(
                        layer: plan.name, featureId: nil, severity: rule.severity, role: .outside, geometry: rest, areaM2: outsideArea))
            }
        } else {
            conflict = !features.isEmpty
        }
        features = CheckResult.FeatureConflict.worstFirst(features)
        // The layer's severity is the worst of its conflicting features (by_field), else its rule's.
        let layerSeverity = rule.when == .inside ? (worstFeature ?? rule.severity) : rule.severity
        let result = CheckResult.LayerConflict(
            layer: plan.name, title: plan.title, version: plan.versionRef.version,
            versionLabel: plan.versionRef.label, severity: layerSeverity, conflict: conflict,
            overlapAreaM2: covered, overlapRatio: siteArea > 0 ? covered / siteArea : 0,
            outsideAreaM2: outside, features: features)
        return (result, pieces, overlaps)
    }

    /// A feature overlapping the site by more than the minimum.
    struct Overlap {
        let candidate: Candidate
        /// The part inside the site; nil when that is the whole feature.
        let piece: Geometry?
        let area: Double
        /// The piece's box.
        let box: BoundingBox
        /// The whole feature lies inside the site.
        let inside: Bool
    }

    /// The part of a feature inside the site and its ellipsoidal area, if over the minimum.
    func overlap(_ found: Found) throws -> Overlap? {
        guard let m = try measure(found) else { return nil }
        return Overlap(candidate: try found.kept(decoded: m.decoded), piece: m.piece, area: m.area, box: m.box, inside: m.inside)
    }

    /// An overlap as measured, before the feature is kept with its attributes (which the
    /// land-use answer, reading three of them, does not build for each of its 图斑).
    struct Measured {
        /// The feature's geometry, if it was decoded.
        let decoded: Geometry?
        /// The part inside the site; nil when that is the whole feature.
        let piece: Geometry?
        let area: Double
        /// The piece's box.
        let box: BoundingBox
        /// The whole feature lies inside the site (its area is its stored one).
        var inside = false
    }

    /// `overlap`'s measure.
    func measure(_ found: Found) throws -> Measured? {
        let minimum = ConflictChecker.minimumOverlapM2
        /// A feature wholly inside the site overlaps by its precomputed area.
        func whole(_ decoded: Geometry?) throws -> Measured? {
            guard found.areaM2 > minimum else { return nil }
            return Measured(decoded: decoded, piece: nil, area: found.areaM2, box: found.box, inside: true)
        }
        /// The feature clipped by a convex region that holds all of the site near it: its
        /// overlap, `.some(nil)` for none, or nil when clipping would not measure it exactly.
        func clipped(by region: ConvexRegion, _ geometry: Geometry) throws -> Measured?? {
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
            return Measured(decoded: geometry, piece: piece, area: area, box: box)
        }
        /// The overlap by GEOS's overlay with `site` (all of it, or its part near the feature).
        func overlaid(_ geometry: Geometry, with site: EngineGeometry, made: EngineGeometry? = nil) throws -> Measured? {
            let piece = try site.intersection(try made ?? engine.make(geometry)).value().parts(ofDimension: 2)
            let area = context.area(of: piece)
            guard area > minimum, let box = piece.boundingBox else { return nil }
            return Measured(decoded: geometry, piece: piece, area: area, box: box)
        }
        /// The overlap's area summed along its boundary, when no piece is kept (see
        /// `PolygonRegion.overlapArea`): `.some(nil)` for none, nil when it cannot be summed.
        func summed(_ geometry: Geometry) throws -> Measured?? {
            guard !context.keepPieces, let edges = context.edges(),
                let area = edges.overlapArea(with: geometry.polygons, box: found.box, spanLimitM: SiteContext.equalAreaSpanLimitM)
            else { return nil }
            guard area > minimum else { return .some(nil) }
            // The piece's box, for telling which overlaps may overlap each other: the part of
            // the feature's box in the site's, which holds it (an overlap means they meet).
            let box = found.box.intersection(context.site.bbox) ?? found.box
            return Measured(decoded: geometry, piece: nil, area: area, box: box)
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
        // arrays, which would allocate and hash on every check. A piece alone is its own root.
        let roots = overlaps.indices.map { find($0) }
        var sizes = [Int](repeating: 0, count: overlaps.count)
        for r in roots { sizes[r] += 1 }
        // Each group's members in index order, laid out by counting: group `root` is
        // `grouped[start[root] ..< start[root] + sizes[root]]`. Linear, where picking each
        // group's members out of all pieces is quadratic on a site over many touching parcels.
        var start = [Int](repeating: 0, count: overlaps.count + 1)
        for r in overlaps.indices { start[r + 1] = start[r] + sizes[r] }
        var grouped = [Int](repeating: 0, count: overlaps.count)
        var next = start
        for i in overlaps.indices { grouped[next[roots[i]]] = i; next[roots[i]] += 1 }
        var total = 0.0
        for (root, size) in sizes.enumerated() where size > 0 {
            if size == 1 { total += overlaps[root].area; continue }
            let members = grouped[start[root]..<start[root] + size]
            // Clipped pieces may carry zero-width bridges GEOS would reject: overlay the
            // features themselves with the site instead, which is always valid.
            let union = try engine.union(try members.map { try engine.make(try overlaps[$0].candidate.geometry()) })
            let part = try context.geometry().intersection(union).value().parts(ofDimension: 2)
            total += part.isEmpty ? 0 : context.area(of: part)
        }
        return total
    }
}
