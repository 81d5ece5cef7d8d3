import Foundation

/// The tile matrix sets as OGC Two Dimensional Tile Matrix Set 2.0 (OGC 17-083r4) describes
/// them in JSON: what `/tileMatrixSets/{id}` answers, so a client that has never heard of
/// 天地图's CGCS2000 grid (GDAL's OGCAPI driver, QGIS) can still place its tiles.
///
/// Every tile matrix is 256 × 256 pixels with its origin at the top-left corner. The scale
/// denominator is the cell size in metres over the standard 0.28 mm pixel; for the
/// geographic set a degree counts as π·6378137/180 m, as WMTS and 天地图 count it.
extension TileMatrixSet {
    /// Both sets, in the order the API lists them: the data's own CGCS2000 grid first. A
    /// client that is not told which set to use takes the first one listed (GDAL's OGCAPI
    /// driver does), and GDAL places a vector tileset's tiles by the collection's longitude and
    /// latitude box without projecting it, which only a geographic grid survives: on Web
    /// Mercator it finds the data in no tile matrix past the second.
    public static let all: [TileMatrixSet] = [.cgcs2000Quad, .webMercatorQuad]

    /// The set with this OGC identifier ("WebMercatorQuad", "CGCS2000Quad"), exactly as written.
    public static func named(_ id: some StringProtocol) -> TileMatrixSet? {
        all.first { $0.id == id }
    }

    public var title: String {
        switch projection {
        case .webMercator: return "Google Maps compatible for the World (EPSG:3857)"
        case .geographic: return "CGCS2000 geographic quadtree (EPSG:4490), 天地图 _c tiles"
        }
    }

    /// The registered definition's URI; the CGCS2000 grid has none in OGC's register.
    public var uri: String? {
        projection == .webMercator ? "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad" : nil
    }

    /// The CRS as an OGC URI, e.g. "http://www.opengis.net/def/crs/EPSG/0/4490".
    public var crsURI: String { "http://www.opengis.net/def/crs/EPSG/0/" + code }

    /// Pixel size in CRS units at zoom z: metres for 3857, degrees for 4490.
    public func cellSize(_ z: Int) -> Double {
        let tiles = Double(1 << z) * 256
        switch projection {
        case .webMercator: return 2 * .pi * 6378137 / tiles
        case .geographic: return 360 / tiles
        }
    }

    public func scaleDenominator(_ z: Int) -> Double {
        let metres = projection == .webMercator ? cellSize(z) : cellSize(z) * .pi * 6378137 / 180
        return metres / 0.00028
    }

    /// The JSON definition (2DTMS 2.0, `tilematrixset` and `json-tilematrixset`). Coordinates
    /// are in the CRS's own axis order: EPSG:4490 is latitude first, so its origin is (90, −180).
    ///
    /// Beside the 2.0 members stand those of the 1.0 JSON encoding (`identifier`,
    /// `supportedCRS`, `boundingBox`, `topLeftCorner`): GDAL up to 3.6, Debian 12's, reads
    /// only those, and refuses a definition without them as "Invalid tiling matrix set name".
    public func document(selfURL: String) -> [String: Any] {
        let origin: [Double]
        let axes: [String]
        let corners: (lower: [Double], upper: [Double])
        switch projection {
        case .webMercator:
            let half = .pi * 6378137.0
            origin = [-half, half]
            corners = ([-half, -half], [half, half])
            axes = ["E", "N"]
        case .geographic:
            origin = [90, -180]
            corners = ([-90, -180], [90, 180])
            axes = ["Lat", "Lon"]
        }
        var doc: [String: Any] = [
            "id": id,
            "identifier": id,
            "title": title,
            "crs": crsURI,
            "supportedCRS": crsURI,
            "orderedAxes": axes,
            "boundingBox": ["crs": crsURI, "lowerCorner": corners.lower, "upperCorner": corners.upper],
            "tileMatrices": (0...Self.maxZoom).map { z -> [String: Any] in
                [
                    "id": String(z),
                    "identifier": String(z),
                    "topLeftCorner": origin,
                    "scaleDenominator": scaleDenominator(z),
                    "cellSize": cellSize(z),
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": origin,
                    "tileWidth": 256,
                    "tileHeight": 256,
                    "matrixWidth": matrixWidth(z),
                    "matrixHeight": matrixHeight(z)
                ]
            },
            "links": [["href": selfURL, "rel": "self", "type": "application/json", "title": "this tile matrix set"]]
        ]
        if let uri { doc["uri"] = uri }
        return doc
    }
}
