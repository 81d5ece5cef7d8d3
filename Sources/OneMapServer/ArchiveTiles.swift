import Foundation
import Hummingbird
import HummingbirdCore
import LayerStore
import Logging
import NIOCore
import Tiles

/// Tiles from pre-made archives (`onemap serve --tiles a.pmtiles`), at the URLs on-demand tiles
/// have: an archive of the one-map composite answers `/tiles/onemap/…`, one of the farmland
/// `/tiles/farmland/…` (on its grid: `/tiles/4490/…` for a CGCS2000 MBTiles), and its TileJSON.
/// An archive answers for its selection whatever versions a URL names: it holds one version,
/// the one it was exported from.
///
/// Tiles are read in place (a positioned read, or one indexed query) on the request's own task,
/// and sent as stored, gzipped, to a caller that accepts gzip. The ETag is a hash of those
/// bytes, so every replica serving the same archive gives the same one.
struct ArchiveTiles: Sendable {
    let archives: [any TileArchive]

    /// The archive holding this selection on this grid, if one was given.
    func archive(for selection: TileSelection, grid: TileMatrixSet) -> (any TileArchive)? {
        guard !archives.isEmpty else { return nil }
        let name =
            switch selection {
            case .all: "onemap"
            case .layers(let names): names.joined(separator: ",")
            }
        return archives.first { $0.name == name && $0.grid == grid }
    }

    /// What `/tiles` serves from archives, for an error that says so.
    var served: String {
        archives.map { $0.grid.tilesPath + $0.name }.joined(separator: ", ")
    }

    static func tile(_ archive: any TileArchive, _ key: TileKey, _ request: Request) throws -> Response {
        guard archive.grid.contains(key) else { throw TileError.outOfRange(key, archive.grid) }
        // No tile there and an empty one answer alike: 204.
        let stored: [UInt8]
        do {
            stored = try archive.tile(key) ?? []
        } catch {
            throw Problem(.internalServerError, "tile archive unreadable", "\(error)")
        }
        // "arc-": never the start of an on-demand tile's tag (plain hex), so the two cannot meet.
        let tag = "\"arc-" + String(TileService.fnv1a(stored), radix: 16) + "\""
        return try TileRoutes.answer(
            etag: tag, isEmpty: stored.isEmpty, request: request, cacheControl: "no-cache", vary: "Accept-Encoding",
            plain: { try Gzip.decompress(stored) }, gzip: { stored })
    }

    /// TileJSON 3.0.0 from the archive's own metadata, pointing at these URLs.
    static func tileJSON(_ archive: any TileArchive, baseURL: String) throws -> Response {
        let prefix = archive.grid.tilesPath
        var json = archive.metadata
        let b = archive.bounds
        json["tilejson"] = "3.0.0"
        json["scheme"] = "xyz"
        json["tiles"] = [baseURL + prefix + archive.name + "/{z}/{x}/{y}.mvt"]
        json["minzoom"] = archive.zooms.lowerBound
        json["maxzoom"] = archive.zooms.upperBound
        json["bounds"] = [b.minX, b.minY, b.maxX, b.maxY]
        json["onemap:archive"] = (archive.path as NSString).lastPathComponent
        var response = try Response.json(object: json)
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.cacheControl] = "no-cache"
        return response
    }
}

/// A server of archives alone (`onemap serve --tiles …` without a database): `/tiles/…` and
/// their TileJSON, `/health`, nothing else. A read-only tile replica, needing no database.
public func buildArchiveApplication(archives: [any TileArchive], configuration: ServerConfiguration) -> some ApplicationProtocol {
    let router = Router(context: OneMapRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ProblemMiddleware(methods: MethodTable(paths: OpenAPI.document.paths)))
    let tiles = ArchiveTiles(archives: archives)
    let proxy = ProxyHeaders(trusted: configuration.trustProxy)
    router.get("health") { _, _ in try Response.json(object: ["status": "ok", "tiles": tiles.served]) }
    let handle: @Sendable (Request, OneMapRequestContext) async throws -> Response = { request, _ in
        try await TileRoutes.answeringTileErrors {
            let target = try TileRoutes.parse(request.uri.path)
            switch target {
            case let .tile(selection, key, grid, _, _):
                guard let archive = tiles.archive(for: selection, grid: grid) else {
                    throw Problem.notFound("this server holds only the tile archives \(tiles.served)")
                }
                return try ArchiveTiles.tile(archive, key, request)
            case let .tileJSON(selection, grid):
                guard let archive = tiles.archive(for: selection, grid: grid) else {
                    throw Problem.notFound("this server holds only the tile archives \(tiles.served)")
                }
                return try ArchiveTiles.tileJSON(archive, baseURL: proxy.baseURL(request))
            case .ogcTileSets, .ogcTileSet:
                throw Problem.notFound("OGC API – Tiles needs the database; this server holds only the tile archives \(tiles.served)")
            }
        }
    }
    router.get("tiles/**", use: handle)
    router.get("**") { request, _ -> Response in
        throw Problem.notFound("no route for \(request.uri.path): this server holds only the tile archives \(tiles.served)")
    }
    let limits = configuration.limits
    let idle = limits.idleTimeoutSeconds > 0 ? TimeAmount.nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9)) : nil
    var logger = Logger(label: "OneMap")
    if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { logger.logLevel = level }
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: idle)),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "OneMap",
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
        logger: logger)
}
