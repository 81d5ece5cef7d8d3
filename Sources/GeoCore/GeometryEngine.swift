import CGEOS

/// A GEOS context. GEOS's reentrant API is safe only if each context is used by one
/// thread at a time, so a check or an import owns its engine for its whole run
/// (creating a context per call, as some wrappers do, is costly on hot paths).
///
/// The compiler holds to that: the engine and its geometries are not Sendable, and may not
/// be declared so elsewhere, so none can be shared with another thread; each worker makes
/// its own engine.
public final class GeometryEngine {
    let handle: GEOSContextHandle_t
    /// The last message GEOS reported through the error handler.
    fileprivate(set) var lastMessage = ""

    public init() {
        handle = GEOS_init_r()
        GEOSContext_setErrorMessageHandler_r(
            handle,
            { message, userData in
                guard let userData, let message else { return }
                let engine = Unmanaged<GeometryEngine>.fromOpaque(userData).takeUnretainedValue()
                engine.lastMessage = String(cString: message)
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { GEOS_finish_r(handle) }

    /// Turns a C failure into a Swift error carrying GEOS's own message.
    func failure(_ operation: String) -> LibraryError {
        let message = lastMessage.isEmpty ? "\(operation) failed" : "\(operation): \(lastMessage)"
        lastMessage = ""
        return LibraryError("GEOS", message)
    }

    /// Wraps an owned GEOS pointer, or throws if GEOS returned NULL.
    func own(_ ptr: OpaquePointer?, _ operation: String) throws -> EngineGeometry {
        guard let ptr else { throw failure(operation) }
        return EngineGeometry(engine: self, pointer: ptr)
    }

    // MARK: Swift values -> GEOS

    public func make(_ geometry: Geometry) throws -> EngineGeometry {
        try own(try build(geometry), "building \(geometry.typeName)")
    }

    private func sequence(_ coords: [Coordinate]) throws -> OpaquePointer {
        // Coordinate is two Doubles, so an array of them is the interleaved XY buffer GEOS copies.
        let seq = coords.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: Double.self) { doubles in
                GEOSCoordSeq_copyFromBuffer_r(handle, doubles.baseAddress, UInt32(coords.count), 0, 0)
            }
        }
        guard let seq else { throw failure("coordinate sequence") }
        return seq
    }

    private func ring(_ coords: [Coordinate]) throws -> OpaquePointer {
        guard let r = GEOSGeom_createLinearRing_r(handle, try sequence(coords)) else { throw failure("linear ring") }
        return r
    }

    private func polygon(_ p: Polygon) throws -> OpaquePointer {
        if p.rings.isEmpty || p.exterior.isEmpty {
            guard let e = GEOSGeom_createEmptyPolygon_r(handle) else { throw failure("empty polygon") }
            return e
        }
        let shell = try ring(p.exterior)
        var holes: [OpaquePointer?] = []
        do {
            for h in p.holes { holes.append(try ring(h)) }
        } catch {
            GEOSGeom_destroy_r(handle, shell)
            for h in holes { GEOSGeom_destroy_r(handle, h) }
            throw error
        }
        let poly = holes.withUnsafeMutableBufferPointer {
            GEOSGeom_createPolygon_r(handle, shell, $0.baseAddress, UInt32($0.count))
        }
        guard let poly else { throw failure("polygon") }
        return poly
    }

    /// Each item built, in order; when one fails, those already built are destroyed before the
    /// error goes on: GEOS owns them only once they are in a collection.
    private func built<Item>(_ items: [Item], _ make: (Item) throws -> OpaquePointer) throws -> [OpaquePointer?] {
        var parts: [OpaquePointer?] = []
        parts.reserveCapacity(items.count)
        do {
            for item in items { parts.append(try make(item)) }
        } catch {
            for part in parts { GEOSGeom_destroy_r(handle, part) }
            throw error
        }
        return parts
    }

    private func collection(_ type: Int32, _ parts: [OpaquePointer?]) throws -> OpaquePointer {
        var parts = parts
        let g = parts.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, type, $0.baseAddress, UInt32($0.count))
        }
        guard let g else { throw failure("collection") }
        return g
    }

    private func build(_ g: Geometry) throws -> OpaquePointer {
        switch g {
        case .point(let c):
            guard let p = GEOSGeom_createPoint_r(handle, try sequence([c])) else { throw failure("point") }
            return p
        case .lineString(let l):
            guard let p = GEOSGeom_createLineString_r(handle, try sequence(l)) else { throw failure("line string") }
            return p
        case .polygon(let p):
            return try polygon(p)
        case .multiPoint(let cs):
            return try collection(Int32(GEOS_MULTIPOINT.rawValue), try built(cs) { try build(.point($0)) })
        case .multiLineString(let ls):
            return try collection(Int32(GEOS_MULTILINESTRING.rawValue), try built(ls) { try build(.lineString($0)) })
        case .multiPolygon(let ps):
            return try collection(Int32(GEOS_MULTIPOLYGON.rawValue), try built(ps) { try polygon($0) })
        case .collection(let gs):
            return try collection(Int32(GEOS_GEOMETRYCOLLECTION.rawValue), try built(gs) { try build($0) })
        }
    }

    // MARK: GEOS -> Swift values

    func value(_ ptr: OpaquePointer) throws -> Geometry {
        let type = GEOSGeomTypeId_r(handle, ptr)
        switch type {
        case Int32(GEOS_POINT.rawValue):
            if GEOSisEmpty_r(handle, ptr) == 1 { return .multiPoint([]) }
            return .point(try coordinates(ptr)[0])
        case Int32(GEOS_LINESTRING.rawValue), Int32(GEOS_LINEARRING.rawValue):
            return .lineString(try coordinates(ptr))
        case Int32(GEOS_POLYGON.rawValue):
            return .polygon(try polygonValue(ptr))
        case Int32(GEOS_MULTIPOINT.rawValue), Int32(GEOS_MULTILINESTRING.rawValue),
            Int32(GEOS_MULTIPOLYGON.rawValue), Int32(GEOS_GEOMETRYCOLLECTION.rawValue):
            let n = GEOSGetNumGeometries_r(handle, ptr)
            guard n >= 0 else { throw failure("number of geometries") }
            var parts = [Geometry]()
            for i in 0..<n {
                guard let part = GEOSGetGeometryN_r(handle, ptr, i) else { throw failure("geometry part") }
                parts.append(try value(part))
            }
            switch type {
            case Int32(GEOS_MULTIPOINT.rawValue): return .multiPoint(parts.flatMap(\.points))
            case Int32(GEOS_MULTILINESTRING.rawValue): return .multiLineString(parts.flatMap(\.lineStrings))
            case Int32(GEOS_MULTIPOLYGON.rawValue): return .multiPolygon(parts.flatMap(\.polygons))
            default: return .collection(parts)
            }
        default:
            throw failure("geometry type \(type)")
        }
    }

    private func polygonValue(_ ptr: OpaquePointer) throws -> Polygon {
        if GEOSisEmpty_r(handle, ptr) == 1 { return Polygon([]) }
        guard let shell = GEOSGetExteriorRing_r(handle, ptr) else { throw failure("exterior ring") }
        var rings = [try coordinates(shell)]
        let nh = GEOSGetNumInteriorRings_r(handle, ptr)
        guard nh >= 0 else { throw failure("interior rings") }
        for i in 0..<nh {
            guard let h = GEOSGetInteriorRingN_r(handle, ptr, i) else { throw failure("interior ring") }
            rings.append(try coordinates(h))
        }
        return Polygon(rings)
    }

    private func coordinates(_ ptr: OpaquePointer) throws -> [Coordinate] {
        guard let seq = GEOSGeom_getCoordSeq_r(handle, ptr) else { throw failure("coordinate sequence") }
        var size: UInt32 = 0
        guard GEOSCoordSeq_getSize_r(handle, seq, &size) != 0 else { throw failure("sequence size") }
        var out = [Coordinate](repeating: Coordinate(0, 0), count: Int(size))
        let ok = out.withUnsafeMutableBufferPointer { buf in
            buf.withMemoryRebound(to: Double.self) { GEOSCoordSeq_copyToBuffer_r(handle, seq, $0.baseAddress, 0, 0) }
        }
        guard ok != 0 else { throw failure("copying coordinates") }
        return out
    }

    // MARK: Validity

    /// nil when valid, else GEOS's reason, e.g. "Self-intersection[120.1 28.4]".
    public func invalidityReason(_ g: EngineGeometry) throws -> String? {
        switch GEOSisValid_r(handle, g.pointer) {
        case 1: return nil
        case 0:
            guard let reason = GEOSisValidReason_r(handle, g.pointer) else { throw failure("validity reason") }
            defer { GEOSFree_r(handle, reason) }
            return String(cString: reason)
        default: throw failure("validity check")
        }
    }

    /// Repairs with the "structure" method, which keeps areas as areas (a bow-tie becomes
    /// two triangles) and drops collapsed parts instead of turning them into stray lines.
    public func makeValid(_ g: EngineGeometry) throws -> EngineGeometry {
        guard let params = GEOSMakeValidParams_create_r(handle) else { throw failure("make-valid parameters") }
        defer { GEOSMakeValidParams_destroy_r(handle, params) }
        GEOSMakeValidParams_setMethod_r(handle, params, GEOS_MAKE_VALID_STRUCTURE)
        GEOSMakeValidParams_setKeepCollapsed_r(handle, params, 0)
        return try own(GEOSMakeValidWithParams_r(handle, g.pointer, params), "MakeValid")
    }
}

extension GeometryEngine {
    /// Unions many geometries at once (cascaded), far faster than pairwise unions.
    public func union(_ parts: [EngineGeometry]) throws -> EngineGeometry {
        try make(.collection(try parts.map { try $0.value() })).unaryUnion()
    }
}

/// One thread at a time per GEOS context (see above): never Sendable.
@available(*, unavailable)
extension GeometryEngine: Sendable {}
