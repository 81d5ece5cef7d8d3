import CGEOS

/// A geometry living inside a GEOS context. Owns its C pointer and frees it in `deinit`.
/// Planar operations only: areas and lengths in metres come from `Ellipsoid`.
public final class EngineGeometry {
    public let engine: GeometryEngine
    let pointer: OpaquePointer

    init(engine: GeometryEngine, pointer: OpaquePointer) {
        self.engine = engine
        self.pointer = pointer
    }

    deinit { GEOSGeom_destroy_r(engine.handle, pointer) }

    private var h: GEOSContextHandle_t { engine.handle }

    public func value() throws -> Geometry { try engine.value(pointer) }

    public var isEmpty: Bool { GEOSisEmpty_r(h, pointer) == 1 }
    /// Valid in the OGC sense (rings closed and simple, holes inside their shell, parts apart).
    public var isValid: Bool { GEOSisValid_r(h, pointer) == 1 }

    private func binary(
        _ other: EngineGeometry, _ name: String,
        _ op: (GEOSContextHandle_t, OpaquePointer, OpaquePointer) -> OpaquePointer?
    ) throws -> EngineGeometry {
        try engine.own(op(h, pointer, other.pointer), name)
    }

    private func predicate(_ name: String, _ result: CChar) throws -> Bool {
        switch result {
        case 1: return true
        case 0: return false
        default: throw engine.failure(name)
        }
    }

    public func intersection(_ other: EngineGeometry) throws -> EngineGeometry {
        try binary(other, "intersection") { GEOSIntersection_r($0, $1, $2) }
    }
    public func union(_ other: EngineGeometry) throws -> EngineGeometry {
        try binary(other, "union") { GEOSUnion_r($0, $1, $2) }
    }
    public func difference(_ other: EngineGeometry) throws -> EngineGeometry {
        try binary(other, "difference") { GEOSDifference_r($0, $1, $2) }
    }
    /// Dissolves a (multi/collection) geometry into one non-overlapping geometry.
    public func unaryUnion() throws -> EngineGeometry {
        try engine.own(GEOSUnaryUnion_r(h, pointer), "unary union")
    }
    /// The union with every vertex snap-rounded to a grid of `gridSize` (GEOS OverlayNG):
    /// edges that nearly coincide (neighbours' shared boundaries, each placed from its own
    /// origin in single precision) become one edge, so adjacent polygons merge without slivers.
    public func unaryUnion(gridSize: Double) throws -> EngineGeometry {
        try engine.own(GEOSUnaryUnionPrec_r(h, pointer, gridSize), "unary union on a grid")
    }
    /// The part inside an axis-aligned box (GEOS's rectangle clipping: one pass over the
    /// vertices, no overlay). Within the box the result has exactly this geometry's edges.
    public func clipped(to b: BoundingBox) throws -> EngineGeometry {
        try engine.own(GEOSClipByRect_r(h, pointer, b.minX, b.minY, b.maxX, b.maxY), "clip by rectangle")
    }
    /// A point on the geometry (inside an area, unlike its centroid or its box's centre).
    public func pointOnSurface() throws -> Coordinate? {
        let p = try engine.own(GEOSPointOnSurface_r(h, pointer), "point on surface")
        guard case .point(let c) = try p.value() else { return nil }
        return c
    }
    public func buffer(_ width: Double, quadrantSegments: Int32 = 8) throws -> EngineGeometry {
        try engine.own(GEOSBuffer_r(h, pointer, width, quadrantSegments), "buffer")
    }
    public func intersects(_ other: EngineGeometry) throws -> Bool {
        try predicate("intersects", GEOSIntersects_r(h, pointer, other.pointer))
    }

    /// Planar area in the units of the coordinates (degrees² for EPSG:4490).
    public func planarArea() throws -> Double {
        var a = 0.0
        guard GEOSArea_r(h, pointer, &a) != 0 else { throw engine.failure("area") }
        return a
    }
    public func prepared() throws -> PreparedGeometry {
        guard let p = GEOSPrepare_r(h, pointer) else { throw engine.failure("prepare") }
        return PreparedGeometry(base: self, pointer: p)
    }
}

/// A geometry indexed for repeated predicates against many others (a site against
/// thousands of parcels). Keeps its base geometry alive, as GEOS requires.
public final class PreparedGeometry {
    public let base: EngineGeometry
    let pointer: OpaquePointer

    init(base: EngineGeometry, pointer: OpaquePointer) {
        self.base = base
        self.pointer = pointer
    }

    deinit { GEOSPreparedGeom_destroy_r(base.engine.handle, pointer) }

    private func predicate(_ name: String, _ result: CChar) throws -> Bool {
        switch result {
        case 1: return true
        case 0: return false
        default: throw base.engine.failure(name)
        }
    }

    public func intersects(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared intersects", GEOSPreparedIntersects_r(base.engine.handle, pointer, g.pointer))
    }
    /// True when `g` lies in the interior, not touching the boundary: its whole area overlaps.
    public func containsProperly(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared containsProperly", GEOSPreparedContainsProperly_r(base.engine.handle, pointer, g.pointer))
    }
    public func covers(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared covers", GEOSPreparedCovers_r(base.engine.handle, pointer, g.pointer))
    }
    /// The DE-9IM relations of the same names (OGC 06-103r4), this geometry first.
    public func touches(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared touches", GEOSPreparedTouches_r(base.engine.handle, pointer, g.pointer))
    }
    public func overlaps(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared overlaps", GEOSPreparedOverlaps_r(base.engine.handle, pointer, g.pointer))
    }
    public func crosses(_ g: EngineGeometry) throws -> Bool {
        try predicate("prepared crosses", GEOSPreparedCrosses_r(base.engine.handle, pointer, g.pointer))
    }
}

extension EngineGeometry {
    /// The closest pair of points, one on each geometry (in this CRS's units).
    public func nearestPoints(_ other: EngineGeometry) throws -> (Coordinate, Coordinate) {
        guard let seq = GEOSNearestPoints_r(engine.handle, pointer, other.pointer) else { throw engine.failure("nearest points") }
        defer { GEOSCoordSeq_destroy_r(engine.handle, seq) }
        var x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0
        guard GEOSCoordSeq_getXY_r(engine.handle, seq, 0, &x0, &y0) != 0,
            GEOSCoordSeq_getXY_r(engine.handle, seq, 1, &x1, &y1) != 0
        else { throw engine.failure("nearest points") }
        return (Coordinate(x0, y0), Coordinate(x1, y1))
    }

    public var dimension: Int { Int(GEOSGeom_getDimensions_r(engine.handle, pointer)) }
}

/// Used through its engine's GEOS context, so bound to the engine's thread: never Sendable.
@available(*, unavailable)
extension EngineGeometry: Sendable {}

@available(*, unavailable)
extension PreparedGeometry: Sendable {}
