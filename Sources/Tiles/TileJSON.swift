import Foundation
import GeoCore
import LayerStore

/// TileJSON 3.0.0 for a selection of layers on one grid.
extension TileService {
    /// `baseURL` is scheme and authority ("http://host:8080"), `path` the selection's path
    /// segment ("onemap", "farmland" or "a,b").
    public func tileJSON(_ selection: TileSelection, grid: TileMatrixSet, baseURL: String, for caller: Caller = .anonymous) throws
        -> [String: Any]
    {
        let sources = try sources(selection, for: caller)
        let path: String
        switch selection {
        case .all: path = "onemap"
        case .layers(let names): path = names.joined(separator: ",")
        }
        let prefix = grid.tilesPath
        let bounds = Self.bounds(of: sources)
        let maxLat = grid == .webMercatorQuad ? TileMatrixSet.maxMercatorLatitude : 90
        let b =
            bounds.map {
                BoundingBox(max(-180, $0.minX), max(-maxLat, $0.minY), min(180, $0.maxX), min(maxLat, $0.maxY))
            } ?? BoundingBox(-180, -maxLat, 180, maxLat)
        // The zoom at which the bounds fill about one tile.
        let span = max(b.maxX - b.minX, b.maxY - b.minY, 1e-9)
        let centerZoom = max(0, min(TileMatrixSet.advertisedMaxZoom, Int(log2(360 / span))))
        var json: [String: Any] = [
            "tilejson": "3.0.0",
            "name": path == "onemap" ? "onemap" : path,
            "description": sources.map(\.info.title).joined(separator: "、"),
            "scheme": "xyz",
            // With the versions in the path, so a tile's URL names one answer forever and
            // can be cached as such (see `versionedPath`); a reload gives new URLs.
            "tiles": [baseURL + prefix + Self.versionedPath(selection, sources) + "/{z}/{x}/{y}.mvt"],
            "minzoom": 0,
            "maxzoom": TileMatrixSet.advertisedMaxZoom,
            "bounds": b.array,
            "center": [(b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2, Double(centerZoom)],
            "vector_layers": sources.map { s -> [String: Any] in
                var fields: [String: String] = [:]
                for f in s.info.fields { fields[f.name] = f.type }
                if s.info.geometryType == "Polygon" { fields["om_merged"] = "Number" }
                return ["id": s.name, "description": s.info.title, "minzoom": s.info.minZoom, "maxzoom": s.info.maxZoom, "fields": fields]
            },
            // Not TileJSON: the versions the tiles are made from, for clients that show them.
            "onemap:versions": Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.layer.version.number) })
        ]
        if grid != .webMercatorQuad {
            json["crs"] = grid.crs
            json["tile_matrix_set"] =
                [
                    "id": grid.id,
                    "crs": grid.crs,
                    "origin": [-180, 90],
                    "tile_span_degrees_at_z0": 360,
                    "resolution_degrees_per_256px_at_z0": 1.40625,
                    "matrix_size": "2^z columns × max(1, 2^(z−1)) rows; z = 天地图 TILEMATRIX"
                ] as [String: Any]
        }
        return json
    }
}
