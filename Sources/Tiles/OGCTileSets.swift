import Foundation
import GeoCore
import LayerStore

/// The tilesets of OGC API – Tiles (OGC 20-057) over the tiles OneMap already makes: a
/// tileset is a selection of layers (one collection, or every layer for the dataset) on one
/// tile matrix set, and its tiles are the same tiles `/tiles/…` serves, addressed by
/// tile matrix, row and column instead of z/x/y. TileJSON says the same to MapLibre; this says
/// it to clients that discover tiles from an OGC API landing page (GDAL's OGCAPI driver, QGIS).
extension TileService {
    static let tilingScheme = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
    static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

    /// The tilesets list at `tilesURL` (`…/tiles`): one vector tileset per tile matrix set.
    public func ogcTileSets(_ selection: TileSelection, tilesURL: String, baseURL: String, for caller: Caller) throws -> [String: Any] {
        let sources = try sources(selection, for: caller)
        let title = sources.map(\.info.title).joined(separator: "、")
        return [
            "links": [link(tilesURL, "self", "application/json", "this list of tilesets")],
            "tilesets": TileMatrixSet.all.map { grid -> [String: Any] in
                var entry: [String: Any] = [
                    "title": "\(title) (\(grid.id))",
                    "dataType": "vector",
                    "crs": grid.crsURI,
                    "links": [
                        link(tilesURL + "/" + grid.id, "self", "application/json", "this tileset"),
                        link(baseURL + "/tileMatrixSets/" + grid.id, Self.tilingScheme, "application/json", "its tile matrix set")
                    ]
                ]
                entry["tileMatrixSetURI"] = grid.uri ?? baseURL + "/tileMatrixSets/" + grid.id
                return entry
            }
        ]
    }

    /// One tileset's metadata (2DTMS 2.0 tileset metadata): its tile matrix set, the
    /// templated link to its tiles, the tile ranges holding data down to the advertised
    /// zoom, and its layers with their attributes.
    public func ogcTileSet(
        _ selection: TileSelection, grid: TileMatrixSet, tilesURL: String, baseURL: String, for caller: Caller
    ) throws -> [String: Any] {
        let sources = try sources(selection, for: caller)
        let here = tilesURL + "/" + grid.id
        let bounds = Self.bounds(of: sources)
        var item = link(
            here + "/{tileMatrix}/{tileRow}/{tileCol}", "item", "application/vnd.mapbox-vector-tile", "a tile (Mapbox Vector Tile)")
        item["templated"] = true
        var doc: [String: Any] = [
            "title": sources.map(\.info.title).joined(separator: "、"),
            "dataType": "vector",
            "crs": grid.crsURI,
            "links": [
                link(here, "self", "application/json", "this tileset"),
                link(baseURL + "/tileMatrixSets/" + grid.id, Self.tilingScheme, "application/json", "its tile matrix set"),
                item
            ],
            "layers": sources.map { s -> [String: Any] in
                var properties: [String: Any] = [:]
                for f in s.info.fields { properties[f.name] = ["type": f.type == "Number" ? "number" : "string"] }
                return [
                    "id": s.name,
                    "title": s.info.title,
                    "dataType": "vector",
                    "geometryDimension": Self.dimension(s.info.geometryType),
                    "minTileMatrix": String(s.info.minZoom),
                    "maxTileMatrix": String(min(s.info.maxZoom, TileMatrixSet.advertisedMaxZoom)),
                    "propertiesSchema": ["type": "object", "properties": properties]
                ]
            }
        ]
        // A set OGC has not registered is named by its definition here, which a client can fetch.
        doc["tileMatrixSetURI"] = grid.uri ?? baseURL + "/tileMatrixSets/" + grid.id
        if let b = bounds {
            doc["boundingBox"] = ["lowerLeft": [b.minX, b.minY], "upperRight": [b.maxX, b.maxY], "crs": Self.crs84]
            // Only the tiles over the data: a client need not ask for the rest of the world.
            doc["tileMatrixSetLimits"] = (0...TileMatrixSet.advertisedMaxZoom).map { z -> [String: Any] in
                let range = grid.tiles(covering: b, z: z)
                return [
                    "tileMatrix": String(z), "minTileRow": range.y.lowerBound, "maxTileRow": range.y.upperBound,
                    "minTileCol": range.x.lowerBound, "maxTileCol": range.x.upperBound
                ]
            }
        }
        return doc
    }

    /// 0 for points, 1 for lines, 2 for polygons, as TileJSON's geometry type names them.
    static func dimension(_ geometryType: String) -> Int {
        geometryType.contains("Polygon") ? 2 : geometryType.contains("Line") ? 1 : 0
    }

    private func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> [String: Any] {
        ["href": href, "rel": rel, "type": type, "title": title]
    }
}
