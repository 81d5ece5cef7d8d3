import Foundation
import GeoCore

/// A class, as is LayerPlan: every layer's evaluation holds both, and a struct would copy
/// their fields (a few dozen references) into each layer's evaluation of each check.
final class SiteContext {
    let site: Site
    let engine: GeometryEngine
    /// Set when the site is one convex polygon: overlaps are then clipped, not overlaid.
    let convex: ConvexRegion?
    /// Set for every other site: places a candidate's box outside, inside or across it.
    let region: PolygonRegion?
    /// Metres around the site, for distances and buffers.
    let plane: LocalPlane
    /// Exact areas around the site, for measuring overlap pieces (see `area(of:)`).
    let equalArea: EqualAreaPlane
    /// Whether the caller wants the geometry behind the conflicts (see `ConflictChecker.check`).
    let keepPieces: Bool
    private var overlayForms: (geometry: EngineGeometry, prepared: PreparedGeometry)?
    private var planeForm: EngineGeometry?

    /// Pieces wider than this are measured with Karney's geodesic polygon area instead: up to
    /// it (a piece of a 400 m site, turned, is at most 570 m across) the equal-area plane is
    /// within ~1e-4 m² of GeographicLib at worst (see `EqualAreaPlane`), inside the 1e-6
    /// relative or 1e-4 m² the answers are held to against PostGIS.
    static let equalAreaSpanLimitM = 600.0

    init(
        site: Site, engine: GeometryEngine, convex: ConvexRegion?, region: PolygonRegion?, plane: LocalPlane,
        equalArea: EqualAreaPlane, keepPieces: Bool
    ) {
        self.site = site
        self.engine = engine
        self.convex = convex
        self.region = region
        self.plane = plane
        self.equalArea = equalArea
        self.keepPieces = keepPieces
    }

    /// The ellipsoidal area of a piece of the site: one projection per vertex in the equal-area
    /// plane, where Karney's polygon area costs a geodesic inverse per edge, for each of the
    /// few clipped pieces of every check. Stored feature areas, ledger totals and the site's
    /// own area stay with Karney: they may be large, with long edges.
    func area(of piece: Geometry) -> Double {
        equalArea.area(piece, spanLimitM: Self.equalAreaSpanLimitM) ?? Ellipsoid.cgcs2000.area(piece)
    }

    /// The site around a feature's box: the site's part within a box a little larger than
    /// the feature's, which has the same edges where the feature is, so the overlap is the
    /// same. The overlay of a feature with a 1,000-vertex corridor walks the whole corridor;
    /// after one cheap clipping pass, the part is small and most often convex.
    func local(around b: BoundingBox) throws -> (geometry: EngineGeometry, convex: ConvexRegion?) {
        let margin = 1e-6  // about 10 cm: the feature lies strictly inside, away from the clip's own edges
        let part = try geometry().clipped(to: BoundingBox(b.minX - margin, b.minY - margin, b.maxX + margin, b.maxY + margin))
        let polygons = try part.value().polygons
        return (part, polygons.count == 1 ? ConvexRegion(polygons[0]) : nil)
    }

    /// The boxes to search an index with, for a site whose box is mostly empty (a corridor);
    /// nil to search with the site's box. Worked out on first use, once for all layers.
    func cover() -> [BoundingBox]? {
        if let coverBoxes { return coverBoxes }
        let made = region?.cover()
        coverBoxes = .some(made)
        return made
    }
    private var coverBoxes: [BoundingBox]??

    /// The site's edges in a grid, for summing overlaps along their boundary (see
    /// `PolygonRegion.overlapArea`): the region of a site that is not convex, else made on
    /// first use.
    func edges() -> PolygonRegion? {
        if let region { return region }
        if let convexEdges { return convexEdges }
        let made = PolygonRegion(site.geometry.polygons)
        convexEdges = .some(made)
        return made
    }
    private var convexEdges: PolygonRegion??

    /// The site in GEOS, made on first use: a convex site clipped in Swift, with no
    /// overlapping features and no line nearby (most checks), never needs it.
    func geometry() throws -> EngineGeometry { try overlay().geometry }
    func prepared() throws -> PreparedGeometry { try overlay().prepared }

    private func overlay() throws -> (geometry: EngineGeometry, prepared: PreparedGeometry) {
        if let overlayForms { return overlayForms }
        let g = try engine.make(site.geometry)
        let made = (g, try g.prepared())
        overlayForms = made
        return made
    }

    /// The site in the local plane (metres), for nearest points; made on first use.
    func planeGeometry() throws -> EngineGeometry {
        if let planeForm { return planeForm }
        let g = try engine.make(plane.toPlane(site.geometry))
        planeForm = g
        return g
    }
}
