import Foundation
import Hummingbird
import LayerStore
import Tiles

/// OGC API – Tiles (Part 1: Core, with TileSet, tilesets lists, geodata and dataset tilesets
/// and MVT) over the same tiles as `/tiles/…`:
///
///     GET /tileMatrixSets                                       WebMercatorQuad and CGCS2000Quad
///     GET /tileMatrixSets/{tileMatrixSetId}                     its 2DTMS 2.0 definition
///     GET /tiles                                                the dataset's tilesets (every layer)
///     GET /tiles/{tileMatrixSetId}                              one tileset's metadata
///     GET /tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}
///     GET /collections/{collectionId}/tiles[/{tileMatrixSetId}[/{tileMatrix}/{tileRow}/{tileCol}]]
///
/// A tile here is byte for byte the tile at `/tiles/[4490/]{layer|onemap}/{z}/{x}/{y}.mvt`
/// with z = tileMatrix, x = tileCol, y = tileRow (the OGC order is row before column), with
/// the same ETags, gzip and 204 for an empty tile.
extension TileRoutes {
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
        "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset"
    ]

    func registerOGC(on router: some RouterMethods<OneMapRequestContext>) {
        router.get("tileMatrixSets") { request, _ in
            let base = self.proxy.baseURL(request)
            let sets = TileMatrixSet.all.map { grid -> [String: Any] in
                var entry: [String: Any] = [
                    "id": grid.id, "title": grid.title, "crs": grid.crsURI,
                    "links": [
                        ["href": base + "/tileMatrixSets/" + grid.id, "rel": "self", "type": "application/json", "title": grid.id]
                    ]
                ]
                if let uri = grid.uri { entry["uri"] = uri }
                return entry
            }
            return try Self.metadata([
                "tileMatrixSets": sets,
                "links": [["href": base + "/tileMatrixSets", "rel": "self", "type": "application/json", "title": "this document"]]
            ])
        }
        router.get("tileMatrixSets/:tileMatrixSetId") { request, context in
            let grid = try Self.grid(named: context.parameters.get("tileMatrixSetId") ?? "")
            return try Self.metadata(grid.document(selfURL: self.proxy.baseURL(request) + "/tileMatrixSets/" + grid.id))
        }
        router.get("collections/:collectionId/tiles") { request, context in
            let (selection, path) = try Self.collection(context)
            return try await Self.answeringTileErrors {
                try await self.ogcTileSets(request, selection, tilesPath: path, caller: context.caller)
            }
        }
        router.get("collections/:collectionId/tiles/:tileMatrixSetId") { request, context in
            let (selection, path) = try Self.collection(context)
            let grid = try Self.grid(named: context.parameters.get("tileMatrixSetId") ?? "")
            return try await Self.answeringTileErrors {
                try await self.ogcTileSet(request, selection, grid: grid, tilesPath: path, caller: context.caller)
            }
        }
        router.get("collections/:collectionId/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol") { request, context in
            let (selection, _) = try Self.collection(context)
            let grid = try Self.grid(named: context.parameters.get("tileMatrixSetId") ?? "")
            let p = context.parameters
            let key = try Self.ogcKey(p.get("tileMatrix") ?? "", p.get("tileRow") ?? "", p.get("tileCol") ?? "")
            return try await Self.answeringTileErrors {
                try await self.tile(request, selection, key, grid, pinned: nil, format: "mvt", context)
            }
        }
    }

    /// The dataset's OGC paths under /tiles (the parts after it), or nil for the tile paths
    /// of old. A tile matrix set's id is never a layer name (those are lower case).
    static func ogcTarget(_ parts: [Substring]) throws -> Target? {
        if parts.isEmpty { return .ogcTileSets }
        guard let grid = TileMatrixSet.named(parts[0]) else {
            // "/tiles/Foo" or "/tiles/Foo/1/2/3" (no layer name has capitals, no tile path
            // lacks an extension) is OGC's form with an unknown set: say so.
            if parts[0].contains(where: \.isUppercase), parts.last?.contains(".") == false { _ = try grid(named: parts[0]) }
            return nil
        }
        switch parts.count {
        case 1: return .ogcTileSet(grid)
        case 4: return .tile(.all, try ogcKey(parts[1], parts[2], parts[3]), grid, pinned: nil, format: "mvt")
        default:
            throw malformed("expected /tiles/\(grid.id) or /tiles/\(grid.id)/{tileMatrix}/{tileRow}/{tileCol}")
        }
    }

    static func grid(named id: some StringProtocol) throws -> TileMatrixSet {
        guard let grid = TileMatrixSet.named(id) else {
            throw Problem(
                .notFound, "unknown tile matrix set",
                "'\(id.prefix(60))' is not a tile matrix set here; the sets are \(TileMatrixSet.all.map(\.id).joined(separator: ", "))"
                    + " (see /tileMatrixSets)")
        }
        return grid
    }

    /// Tile matrix, row and column as the OGC path gives them: z, y and x.
    static func ogcKey(_ tileMatrix: some StringProtocol, _ row: some StringProtocol, _ col: some StringProtocol) throws -> TileKey {
        TileKey(
            z: try number(Substring(tileMatrix), "tileMatrix"), x: try number(Substring(col), "tileCol"),
            y: try number(Substring(row), "tileRow"))
    }

    /// A collection's tiles: the one layer, at `/collections/{id}/tiles`. A name no layer can
    /// have is no collection, as for the features.
    static func collection(_ context: OneMapRequestContext) throws -> (TileSelection, path: String) {
        let raw = context.parameters.get("collectionId") ?? ""
        let id = raw.removingPercentEncoding ?? raw
        guard LayerName.isValid(Substring(id)) else { throw Problem.notFound("no collection '\(id.prefix(60))'") }
        return (.layers([id]), "/collections/" + id + "/tiles")
    }

    func ogcTileSets(_ request: Request, _ selection: TileSelection, tilesPath: String, caller: Caller) async throws -> Response {
        let (service, base) = (tiles, proxy.baseURL(request))
        return try await Blocking.run {
            try Self.metadata(service.ogcTileSets(selection, tilesURL: base + tilesPath, baseURL: base, for: caller), caller: caller)
        }
    }

    func ogcTileSet(_ request: Request, _ selection: TileSelection, grid: TileMatrixSet, tilesPath: String, caller: Caller) async throws
        -> Response
    {
        let (service, base) = (tiles, proxy.baseURL(request))
        return try await Blocking.run {
            try Self.metadata(
                service.ogcTileSet(selection, grid: grid, tilesURL: base + tilesPath, baseURL: base, for: caller), caller: caller)
        }
    }

    /// Metadata as TileJSON is answered: JSON, open to every origin, revalidated every time
    /// (it names the layers, whose extent changes with a reload); private once a key is involved.
    static func metadata(_ doc: [String: Any], caller: Caller = .anonymous) throws -> Response {
        var response = try Response.json(object: doc)
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.cacheControl] = caller.role == nil ? "no-cache" : "private, no-cache"
        response.headers[.vary] = "Authorization"
        return response
    }
}
