import Foundation
import GeoCore
import VectorIO

/// Turns whatever a planner or the approval system sends into a `Site`:
/// GeoJSON (Geometry, Feature or FeatureCollection), WKT, a 部标 TXT, or a Shapefile/GeoPackage.
public enum SiteReader {
    public enum Format: String, Sendable { case geoJSON = "geojson", txt, wkt, file }

    /// Reads bytes, guessing the format from the content: `{` is GeoJSON, a [地块坐标] section
    /// is a 部标 TXT, anything else is tried as WKT.
    public static func read(_ data: Data, crs: String? = nil, limits: SiteLimits = SiteLimits()) throws -> (Site, Format) {
        let head = data.prefix(64).drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if head.first == UInt8(ascii: "{") { return (try geoJSON(data, limits: limits), .geoJSON) }
        guard let text = SurveyTXT.decode(data) else { throw SiteError(.malformed, "the input is neither JSON, WKT nor a 部标 TXT") }
        if SurveyTXT.looksLikeSurveyTXT(text) { return (try SurveyTXT.read(text: text, limits: limits), .txt) }
        return (try wkt(text, crs: crs, limits: limits), .wkt)
    }

    public static func geoJSON(_ data: Data, limits: SiteLimits = SiteLimits()) throws -> Site {
        let json: Any
        do { json = try GeoJSON.parseJSON(data) } catch { throw SiteError(.malformed, "\(error)") }
        return try geoJSON(json: json, limits: limits)
    }

    public static func geoJSON(json: Any, limits: SiteLimits = SiteLimits()) throws -> Site {
        let doc: GeoJSON.Document
        do {
            doc = try GeoJSON.read(json: json, limits: .init(maxVertices: limits.maxVertices))
        } catch let e as GeoJSON.VertexLimitExceeded {
            throw SiteError(.tooLarge, "the site has \(e); the limit is \(limits.maxVertices)")
        } catch {
            throw SiteError(.invalid, "\(error)")
        }
        var polygons: [(Polygon, String)] = []
        for item in doc.items {
            func collect(_ g: Geometry, _ path: String) throws {
                switch g {
                case .polygon(let p): polygons.append((p, path))
                case .multiPolygon(let ps): for (i, p) in ps.enumerated() { polygons.append((p, "\(path).coordinates[\(i)]")) }
                case .collection(let gs): for (i, part) in gs.enumerated() { try collect(part, "\(path).geometries[\(i)]") }
                default: throw SiteError(.invalid, "\(path): a site must be a Polygon or MultiPolygon, not a \(g.typeName)")
                }
            }
            try collect(item.geometry, item.path)
        }
        guard !polygons.isEmpty else { throw SiteError(.invalid, "the GeoJSON holds no geometry") }
        return try Site.make(polygons: polygons, crs: try doc.crs.map(SiteCRS.code), limits: limits)
    }

    /// POLYGON, MULTIPOLYGON or a GEOMETRYCOLLECTION of them, in `crs` (default CGCS2000 lon/lat).
    /// Every error names the character where the text goes wrong (see `SiteWKT`).
    public static func wkt(_ text: String, crs: String?, limits: SiteLimits = SiteLimits()) throws -> Site {
        let polygons = try SiteWKT.polygons(text, maxVertices: limits.maxVertices)
        guard !polygons.isEmpty else { throw SiteError(.invalid, "the WKT holds no polygon (only EMPTY ones)") }
        return try Site.make(polygons: polygons, crs: try crs.map(SiteCRS.code), limits: limits)
    }

    /// The union of the polygons of a Shapefile, GeoPackage or any GDAL vector file.
    public static func file(_ path: String, layer: String? = nil, crs: String? = nil, limits: SiteLimits = SiteLimits()) throws -> Site {
        let src: VectorSource
        do { src = try VectorSource(path: path, layer: layer) } catch { throw SiteError(.invalid, "\(error)") }
        var polygons: [(Polygon, String)] = []
        while let f = try src.next() {
            guard let g = f.geometry else { continue }
            for (i, p) in g.polygons.enumerated() { polygons.append((p, "\(path) feature \(f.fid) part \(i + 1)")) }
        }
        guard !polygons.isEmpty else { throw SiteError(.invalid, "\(path): no polygons") }
        // The file's own declaration (EPSG:n, or WKT from its .prj) is GDAL's reading of it.
        guard let sourceCRS = try crs.map(SiteCRS.code) ?? src.declaredCRS else {
            throw SiteError(.invalid, "\(path) declares no CRS; give --crs")
        }
        return try Site.make(polygons: polygons, crs: sourceCRS, limits: limits)
    }

    /// Reads a file from disk by its kind: .shp/.gpkg/… through GDAL, the rest by content.
    public static func path(_ path: String, crs: String? = nil, limits: SiteLimits = SiteLimits()) throws -> (Site, Format) {
        let ext = (path as NSString).pathExtension.lowercased()
        if ["shp", "gpkg", "gml", "kml", "tab", "mif", "dxf", "fgb"].contains(ext) {
            return (try file(path, crs: crs, limits: limits), .file)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw SiteError(.invalid, "\(path): cannot read the file") }
        return try read(data, crs: crs, limits: limits)
    }
}
