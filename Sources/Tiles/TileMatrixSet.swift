import Foundation
import GeoCore

/// A tile pyramid: how lon/lat maps onto tiles at each zoom.
///
/// Both sets OneMap serves are "square quadtrees" over a normalised world square [0, 1]²
/// (x to the right, y down): tile (z, x, y) covers [x, x+1] × [y, y+1] / 2^z of it. They differ
/// only in how lon/lat lands in that square:
///
/// - `webMercatorQuad` (EPSG:3857, OGC WebMercatorQuad, the XYZ scheme of MapLibre, OSM and
///   天地图's `_w` services): spherical Mercator, latitudes clipped at ±85.0511°;
///   2^z × 2^z tiles at zoom z.
/// - `cgcs2000Quad` (EPSG:4490 lon/lat, the `_c` tile matrix set of 天地图): plate carrée with
///   the origin at the top-left corner (lon −180°, lat 90°) and square tiles 360°/2^z wide,
///   so zoom z has 2^z columns and 2^(z−1) rows (one row at z = 0, whose lower half lies past
///   the pole and stays empty). For 256-pixel tiles the resolution is 1.40625°/2^z per pixel:
///   0.703125° at z = 1, the first level of 天地图's matrix set, whose TILEMATRIX, TILECOL and
///   TILEROW are exactly z, x and y here. The scale denominator is resolution × (π·6378137/180) /
///   0.00028 (2.795411320e8 at z = 1; 天地图's capabilities say 2.958293554545656e8, counting
///   a 96 dpi pixel of 0.2646 mm instead of OGC's 0.28 mm). CGCS2000 and WGS 84 differ by centimetres, so
///   WorldCRS84Quad clients can use these tiles with z′ = z − 1.
public struct TileMatrixSet: Hashable, Sendable {
    public enum Projection: Hashable, Sendable {
        case webMercator
        case geographic
    }

    /// OGC-style identifier.
    public let id: String
    /// The CRS the tile coordinates are in.
    public let crs: String
    /// Short name used in cache keys and URLs ("3857", "4490").
    public let code: String
    public let projection: Projection

    /// Deepest zoom a request may ask for (tiles past the data's detail are still correct).
    public static let maxZoom = 24
    /// Deepest zoom advertised in TileJSON; clients overzoom past it.
    public static let advertisedMaxZoom = 16

    public static let webMercatorQuad = TileMatrixSet(id: "WebMercatorQuad", crs: "EPSG:3857", code: "3857", projection: .webMercator)
    public static let cgcs2000Quad = TileMatrixSet(id: "CGCS2000Quad", crs: "EPSG:4490", code: "4490", projection: .geographic)

    public static let maxMercatorLatitude = 85.0511287798066

    public func matrixWidth(_ z: Int) -> Int { 1 << z }

    public func matrixHeight(_ z: Int) -> Int {
        switch projection {
        case .webMercator: return 1 << z
        case .geographic: return z == 0 ? 1 : 1 << (z - 1)
        }
    }

    public func contains(_ key: TileKey) -> Bool {
        key.z >= 0 && key.z <= Self.maxZoom && key.x >= 0 && key.y >= 0
            && key.x < matrixWidth(key.z) && key.y < matrixHeight(key.z)
    }

    /// Where this grid's tiles are under the server: `/tiles/` for Web Mercator (the default
    /// every web map assumes), `/tiles/<EPSG code>/` for another.
    public var tilesPath: String { self == .webMercatorQuad ? "/tiles/" : "/tiles/\(code)/" }

    /// lon/lat → the normalised world square (x right, y down).
    @inline(__always) public func world(_ lon: Double, _ lat: Double) -> (x: Double, y: Double) {
        let x = (lon + 180) / 360
        switch projection {
        case .webMercator:
            let phi = Swift.max(-Self.maxMercatorLatitude, Swift.min(Self.maxMercatorLatitude, lat)) * .pi / 180
            return (x, 0.5 - log(tan(.pi / 4 + phi / 2)) / (2 * .pi))
        case .geographic:
            return (x, (90 - lat) / 360)
        }
    }

    /// The normalised world square → lon/lat.
    public func lonLat(_ wx: Double, _ wy: Double) -> Coordinate {
        let lon = wx * 360 - 180
        switch projection {
        case .webMercator:
            return Coordinate(lon, atan(sinh(.pi * (1 - 2 * wy))) * 180 / .pi)
        case .geographic:
            return Coordinate(lon, 90 - wy * 360)
        }
    }

    /// The lon/lat box a tile covers (for the geographic set at z = 0, down to −270°, i.e. clipped at −90°).
    public func bounds(of key: TileKey) -> BoundingBox {
        let n = Double(1 << key.z)
        let a = lonLat(Double(key.x) / n, Double(key.y) / n)
        let b = lonLat(Double(key.x + 1) / n, Double(key.y + 1) / n)
        return BoundingBox(a.x, Swift.max(-90, b.y), b.x, a.y)
    }

    /// The tiles at zoom z whose area meets a lon/lat box.
    public func tiles(covering box: BoundingBox, z: Int) -> (x: ClosedRange<Int>, y: ClosedRange<Int>) {
        let n = Double(1 << z)
        let a = world(box.minX, box.maxY), b = world(box.maxX, box.minY)
        func clamp(_ v: Double, _ hi: Int) -> Int { Swift.max(0, Swift.min(hi - 1, Int(floor(v * n)))) }
        return (clamp(a.x, matrixWidth(z))...clamp(b.x, matrixWidth(z)), clamp(a.y, matrixHeight(z))...clamp(b.y, matrixHeight(z)))
    }

    /// Tile units per ground metre along x and y at a latitude, on a sphere of the CGCS2000
    /// semi-major axis: to turn a feature's area in m² into tile units² (within a fraction of a
    /// percent, plenty for generalisation).
    public func unitsPerMetre(latitude: Double, z: Int, extent: Int) -> (x: Double, y: Double) {
        let unitsPerWorld = Double(extent) * Double(1 << z)
        let cosPhi = Swift.max(1e-6, cos(latitude * .pi / 180))
        let metresPerDegree = 6378137.0 * .pi / 180
        switch projection {
        case .webMercator:
            let k = unitsPerWorld / (2 * .pi * 6378137.0 * cosPhi)
            return (k, k)
        case .geographic:
            let perDegree = unitsPerWorld / 360
            return (perDegree / (metresPerDegree * cosPhi), perDegree / metresPerDegree)
        }
    }
}

/// Maps lon/lat into one tile's coordinate space (0…extent, y down).
public struct TileTransform: Sendable {
    public let grid: TileMatrixSet
    public let key: TileKey
    public let extent: Int
    let scale: Double
    let originX: Double
    let originY: Double

    public init(grid: TileMatrixSet, key: TileKey, extent: Int) {
        self.grid = grid
        self.key = key
        self.extent = extent
        scale = Double(extent) * Double(1 << key.z)
        originX = Double(key.x) * Double(extent)
        originY = Double(key.y) * Double(extent)
    }

    @inline(__always) public func apply(_ lon: Double, _ lat: Double) -> (x: Double, y: Double) {
        let w = grid.world(lon, lat)
        return (w.x * scale - originX, w.y * scale - originY)
    }

    /// Tile coordinates → lon/lat.
    public func inverse(_ x: Double, _ y: Double) -> Coordinate {
        grid.lonLat((x + originX) / scale, (y + originY) / scale)
    }

    /// The lon/lat box of the tile grown by `buffer` tile units on every side.
    public func lonLatBox(buffer: Double) -> BoundingBox {
        let a = inverse(-buffer, -buffer), b = inverse(Double(extent) + buffer, Double(extent) + buffer)
        return BoundingBox(Swift.max(-180, a.x), Swift.max(-90, b.y), Swift.min(180, b.x), Swift.min(90, a.y))
    }
}
