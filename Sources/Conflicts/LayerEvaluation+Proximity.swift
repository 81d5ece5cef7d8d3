import GeoCore
import LayerStore

/// Line and point layers: each feature's distance to the site, and the part of the site in
/// their protection corridor (`buffer_m`).
extension LayerEvaluation {
    func proximity() throws -> (result: CheckResult.LayerConflict, pieces: [ConflictPiece]) {
        let buffer = rule.bufferM ?? 0
        let plane = context.plane
        let margin = plane.degrees(forMetres: buffer + 1)
        var features: [CheckResult.FeatureConflict] = []
        var pieces: [ConflictPiece] = []
        var corridors: [EngineGeometry] = []
        // The site's share of each corridor, in feature order: with one corridor, it is the layer's.
        var shares: [(area: Double, part: Geometry?)] = []
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
            let (distance, length, inside) = try measure(geometry, near: near)
            guard distance < buffer || (buffer == 0 && distance == 0) else { continue }
            let props = c.properties
            let sev = severity(props)
            // With a corridor, a feature's overlap is the part of the site in its own corridor
            // (what the layer's figure sums, less double counting); without, a polygon's overlap.
            let corridor = buffer > 0 ? try engine.make(plane.toPlane(near)).buffer(buffer, quadrantSegments: 8) : nil
            let overlap: Double
            if let corridor {
                let share = try siteShare(of: plane.toLonLat(try corridor.value()))
                shares.append(share)
                overlap = share.area
            } else {
                overlap = geometry.dimension == 2 ? (inside.map { context.area(of: $0) } ?? 0) : 0
            }
            features.append(
                .init(id: c.id, severity: sev, overlapAreaM2: overlap, minDistanceM: distance, lengthM: length, properties: props))
            if context.keepPieces {
                pieces.append(
                    ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .feature, geometry: geometry, areaM2: 0))
            }
            if context.keepPieces, let inside, !inside.isEmpty {
                pieces.append(
                    ConflictPiece(layer: plan.name, featureId: c.id, severity: sev, role: .overlap, geometry: inside, areaM2: overlap))
            }
            if let corridor { corridors.append(corridor) }
        }
        // How much of the site lies in the protection corridor.
        var corridorArea = 0.0
        if !corridors.isEmpty {
            let (area, part) =
                corridors.count == 1 ? shares[0] : try siteShare(of: plane.toLonLat(try engine.union(corridors).value()))
            corridorArea = area
            if corridorArea > 0, context.keepPieces, let part {
                pieces.append(
                    ConflictPiece(
                        layer: plan.name, featureId: nil, severity: rule.severity, role: .corridor, geometry: part, areaM2: corridorArea))
            }
        }
        features.sort { ($0.minDistanceM ?? 0, $0.id) < ($1.minDistanceM ?? 0, $1.id) }
        let siteArea = context.site.areaM2
        let result = CheckResult.LayerConflict(
            layer: plan.name, title: plan.title, version: plan.versionRef.version,
            versionLabel: plan.versionRef.label, severity: features.compactMap { $0.severity }.max() ?? rule.severity,
            conflict: !features.isEmpty, overlapAreaM2: corridorArea,
            overlapRatio: siteArea > 0 ? corridorArea / siteArea : 0,
            outsideAreaM2: nil, features: features)
        return (result, pieces)
    }

    /// A feature's distance to the site (0 when they meet); for a line, its length inside the
    /// site; and the part of it inside the site. `near` is the part of it the search window holds.
    private func measure(_ geometry: Geometry, near: Geometry) throws -> (distance: Double, length: Double?, inside: Geometry?) {
        let g = try engine.make(near)
        if try context.prepared().intersects(g) {
            if geometry.dimension == 1 {
                let part = try context.geometry().intersection(g).value()
                return (0, ellipsoid.length(part), .multiLineString(part.lineStrings))
            }
            if geometry.dimension == 2 {
                return (0, nil, try context.geometry().intersection(g).value().parts(ofDimension: 2))
            }
            return (0, nil, nil)
        }
        // Nearest points in the local plane, then the geodesic distance between them.
        let plane = context.plane
        let (a, b) = try context.planeGeometry().nearestPoints(try engine.make(plane.toPlane(near)))
        return (ellipsoid.distance(plane.toLonLat(a), plane.toLonLat(b)), geometry.dimension == 1 ? 0 : nil, nil)
    }

    /// The ellipsoidal area of the part of the site inside `corridor` (lon/lat), and that part
    /// when pieces are kept. Without pieces the area is summed along the boundary of the
    /// overlap (`PolygonRegion.overlapArea`), as a parcel's is: a corridor of 8 segments a
    /// quadrant has a hundred vertices or more, and overlaying it with the site was most of a
    /// pipeline's cost in a check. Where the sum refuses (touching edges, a span past the
    /// plane's), the overlay measures it.
    private func siteShare(of corridor: Geometry) throws -> (area: Double, part: Geometry?) {
        if !context.keepPieces, let edges = context.edges(), let box = corridor.boundingBox,
            let area = edges.overlapArea(with: corridor.polygons, box: box, spanLimitM: SiteContext.equalAreaSpanLimitM)
        {
            return (area, nil)
        }
        let part = try context.geometry().intersection(try engine.make(corridor)).value().parts(ofDimension: 2)
        return (part.isEmpty ? 0 : context.area(of: part), part)
    }
}
