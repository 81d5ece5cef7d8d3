import CPROJ

/// A PROJ transformation between two CRSs, in GIS axis order on both sides
/// (longitude/easting first), whatever order the EPSG definitions declare:
/// EPSG:4490 is latitude-first and the Gauss–Krüger zones are northing-first.
///
/// A PROJ object may be used by one thread at a time, so each transform owns its context.
public final class CoordinateTransform {
    private let context: OpaquePointer
    private let pj: OpaquePointer
    public let source: String
    public let target: String

    /// `source`/`target` are anything PROJ accepts: "EPSG:4528", WKT, PROJJSON.
    public init(from source: String, to target: String) throws {
        self.source = source
        self.target = target
        guard let ctx = proj_context_create() else { throw LibraryError("PROJ", "cannot create a context") }
        // Never reach for the network (grids from the CDN): machines are offline.
        proj_context_set_enable_network(ctx, 0)
        func fail(_ what: String) -> LibraryError {
            let errno = proj_context_errno(ctx)
            let msg = errno != 0 ? String(cString: proj_context_errno_string(ctx, errno)) : "unknown error"
            proj_context_destroy(ctx)
            return LibraryError("PROJ", "\(what): \(msg)")
        }
        guard let raw = proj_create_crs_to_crs(ctx, source, target, nil) else {
            throw fail("cannot transform from \(Self.short(source)) to \(Self.short(target))")
        }
        let normalized = proj_normalize_for_visualization(ctx, raw)
        proj_destroy(raw)
        guard let normalized else { throw fail("cannot normalise axis order for \(Self.short(source))") }
        context = ctx
        pj = normalized
    }

    deinit {
        proj_destroy(pj)
        proj_context_destroy(context)
    }

    static func short(_ crs: String) -> String {
        crs.count > 60 ? String(crs.prefix(57)) + "..." : crs
    }

    /// Checks that PROJ knows a CRS definition, with PROJ's message if not.
    public static func validate(crs: String) throws {
        guard let ctx = proj_context_create() else { throw LibraryError("PROJ", "cannot create a context") }
        defer { proj_context_destroy(ctx) }
        guard let obj = proj_create(ctx, crs) else {
            let errno = proj_context_errno(ctx)
            let msg = errno != 0 ? String(cString: proj_context_errno_string(ctx, errno)) : "not a CRS"
            throw LibraryError("PROJ", "unknown CRS \(short(crs)): \(msg)")
        }
        defer { proj_destroy(obj) }
        let type = proj_get_type(obj)
        let crsTypes: [PJ_TYPE] = [
            PJ_TYPE_GEOGRAPHIC_2D_CRS, PJ_TYPE_GEOGRAPHIC_3D_CRS, PJ_TYPE_PROJECTED_CRS,
            PJ_TYPE_COMPOUND_CRS, PJ_TYPE_GEOCENTRIC_CRS, PJ_TYPE_BOUND_CRS,
            PJ_TYPE_GEOGRAPHIC_CRS, PJ_TYPE_OTHER_CRS,
            PJ_TYPE_ENGINEERING_CRS
        ]
        guard crsTypes.contains(type) else { throw LibraryError("PROJ", "\(short(crs)) is not a CRS") }
    }

    /// Transforms coordinates in place. Throws if any point cannot be transformed
    /// (PROJ marks those with HUGE_VAL), naming the first such point.
    public func transform(_ coords: inout [Coordinate]) throws {
        guard !coords.isEmpty else { return }
        let n = coords.count
        coords.withUnsafeMutableBufferPointer { buf in
            buf.withMemoryRebound(to: Double.self) { d in
                let stride = MemoryLayout<Coordinate>.stride
                _ = proj_trans_generic(
                    pj, PJ_FWD,
                    d.baseAddress, stride, n,
                    d.baseAddress! + 1, stride, n,
                    nil, 0, 0, nil, 0, 0)
            }
        }
        if let bad = coords.firstIndex(where: { !$0.x.isFinite || !$0.y.isFinite }) {
            throw LibraryError("PROJ", "point \(bad + 1) cannot be transformed from \(Self.short(source)) to \(Self.short(target))")
        }
    }

    public func transform(_ c: Coordinate) throws -> Coordinate {
        var a = [c]
        try transform(&a)
        return a[0]
    }

    public func transform(_ g: Geometry) throws -> Geometry {
        try g.mapSequences { seq in
            var s = seq
            try transform(&s)
            return s
        }
    }
}
