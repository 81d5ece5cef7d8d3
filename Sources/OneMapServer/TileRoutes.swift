import Foundation
import Hummingbird
import LayerStore
import Tiles

/// Vector tiles and their TileJSON:
///
///     GET /tiles/{layer}/{z}/{x}/{y}.mvt        one layer (.pbf too)
///     GET /tiles/{a,b,c}/{z}/{x}/{y}.mvt        several layers in one tile
///     GET /tiles/onemap/{z}/{x}/{y}.mvt         every layer the caller may see
///     GET /tiles/{layer|a,b|onemap}.json        TileJSON 3.0.0
///     GET /tiles/4490/…                         the same on the CGCS2000 geographic grid
///
/// Tiles answer 200 with the MVT (gzip when accepted), 204 when empty, 304 when the
/// caller's ETag still holds.
///
/// TileJSON gives tile URLs with the layer versions in them (`farmland@3`, `a@3,b@5`,
/// `onemap@<digest>`, see `TileService.versionedPath`): such a URL names one answer
/// forever, so it is cached for a year without asking again (`immutable`), and a reload
/// makes new URLs rather than waiting for caches to expire. One that names versions no
/// longer current redirects to the current ones, so a map opened before a reload keeps
/// working. URLs without versions stay valid, with `no-cache`: clients revalidate every
/// time (a 304), and see a reload at once.
struct TileRoutes {
    let tiles: TileService
    let metrics: ServerMetrics
    let deadline: Deadline
    /// Whose word on the URL the caller used counts (X-Forwarded-* only with --trust-proxy).
    let proxy: ProxyHeaders
    /// Every tile holding a restricted layer is on record.
    let access: AccessNotes
    /// Archives given with `--tiles`: they answer for the selections they hold.
    var archives = ArchiveTiles(archives: [])

    init(store: Store, options: TileOptions = TileOptions(), cacheBytes: Int = 256 << 20) {
        self.init(
            service: TileService(store: store, options: options, cacheBytes: cacheBytes), metrics: ServerMetrics(),
            deadline: Deadline(seconds: 0), proxy: ProxyHeaders(trusted: false), access: AccessNotes(records: nil))
    }

    init(service: TileService, metrics: ServerMetrics, deadline: Deadline, proxy: ProxyHeaders, access: AccessNotes) {
        tiles = service
        self.metrics = metrics
        self.deadline = deadline
        self.proxy = proxy
        self.access = access
    }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        router.get("tiles") { request, context in try await self.handle(request, context) }
        router.get("tiles/**") { request, context in try await self.handle(request, context) }
        registerOGC(on: router)
    }

    static let usage = "expected /tiles/[4490/]{layer|a,b|onemap}[@versions]/{z}/{x}/{y}.mvt or /tiles/[4490/]{layer|a,b|onemap}.json"

    /// What a path under /tiles asks for.
    enum Target: Equatable {
        /// `pinned`: the versions the path names, as `TileService.versionedPath` writes them,
        /// or nil for whatever is current. `format`: "mvt" or "pbf", as asked.
        case tile(TileSelection, TileKey, TileMatrixSet, pinned: String?, format: Substring)
        case tileJSON(TileSelection, TileMatrixSet)
        /// OGC API – Tiles for the dataset (every layer): `/tiles`, `/tiles/{tileMatrixSetId}`
        /// and its tiles by matrix, row and column (see TileRoutes+OGC).
        case ogcTileSets
        case ogcTileSet(TileMatrixSet)
    }

    static func parse(_ path: String) throws -> Target {
        // Split by byte, not by Character (grapheme breaking costs more than the rest of a
        // cached tile's answer), into Substrings: this runs for every tile, cached or not.
        var parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }[...]
        guard parts.first == "" else { throw malformed("the path must be absolute") }
        parts.removeFirst()
        guard parts.first == "tiles" else { throw malformed(usage) }
        parts.removeFirst()
        if parts.last == "" { parts.removeLast() }
        if let ogc = try ogcTarget(Array(parts)) { return ogc }
        var grid = TileMatrixSet.webMercatorQuad
        if parts.count == 2 || parts.count == 5, parts.first.map(String.init) == TileMatrixSet.cgcs2000Quad.code {
            grid = .cgcs2000Quad
            parts.removeFirst()
        }
        let p = Array(parts)
        switch p.count {
        case 1:
            guard p[0].hasSuffix(".json") else { throw malformed(usage) }
            let (selection, pinned) = try selection(p[0].dropLast(5))
            guard pinned == nil else { throw malformed("TileJSON is asked without versions: it gives the current ones") }
            return .tileJSON(selection, grid)
        case 4:
            let last = p[3]
            guard let dot = last.lastIndex(of: ".") else { throw malformed("the tile must end in .mvt or .pbf: \(usage)") }
            let ext = last[last.index(after: dot)...]
            guard ext == "mvt" || ext == "pbf" else { throw malformed("'.\(ext)' is not a tile format; use .mvt or .pbf") }
            let z = try number(p[1], "z"), x = try number(p[2], "x"), y = try number(last[..<dot], "y")
            let (selection, pinned) = try selection(p[0])
            return .tile(selection, TileKey(z: z, x: x, y: y), grid, pinned: pinned, format: ext)
        default:
            throw malformed(usage)
        }
    }

    static func malformed(_ detail: String) -> Problem { Problem(.badRequest, "malformed tile path", detail) }

    static func number(_ s: Substring, _ name: String) throws -> Int {
        guard !s.isEmpty, s.utf8.count <= 9, s.utf8.allSatisfy(isDigit), let n = Int(s) else {
            throw malformed("\(name) must be a whole number, got '\(s.prefix(40))'")
        }
        return n
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// "onemap", "farmland" or "a,b,c" (braces allowed: "{a,b}"), each name with its version
    /// ("farmland@3", "a@3,b@5") or none, and "onemap" with the digest of its versions.
    /// Returns the layers, and the versions as written, if any.
    static func selection(_ raw: Substring) throws -> (TileSelection, pinned: String?) {
        // Foundation's decoding is slow for the hot path; only "{a,b}" written as %7B… needs it.
        var s = raw.utf8.contains(UInt8(ascii: "%")) ? Substring(raw.removingPercentEncoding ?? String(raw)) : raw
        if s.hasPrefix("{") && s.hasSuffix("}") && s.utf8.count >= 2 { s = s.dropFirst().dropLast() }
        if s == "onemap" { return (.all, nil) }
        if s.hasPrefix("onemap@") {
            let digest = s.dropFirst(7)
            guard !digest.isEmpty, digest.utf8.count <= 16, digest.utf8.allSatisfy({ isDigit($0) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                throw malformed("'\(s.prefix(40))': onemap's versions are a digest of up to 16 hex digits, as TileJSON gives")
            }
            return (.all, String(s))
        }
        var names: [String] = []
        var versioned = 0
        for element in s.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map({ Substring($0) }) {
            let at = element.firstIndex(of: "@")
            let name = element[..<(at ?? element.endIndex)]
            guard LayerName.isValid(name) else {
                throw malformed("'\(name.prefix(40))' is not a layer name (\(LayerName.pattern))")
            }
            if let at {
                let version = element[element.index(after: at)...]
                guard !version.isEmpty, version.utf8.count <= 9, version.utf8.allSatisfy(isDigit) else {
                    throw malformed("'\(element.prefix(60))': a layer's version is a whole number, as in farmland@3")
                }
                versioned += 1
            }
            names.append(String(name))
        }
        guard versioned == 0 || versioned == names.count else {
            throw malformed("'\(s.prefix(80))' gives versions for some layers only: give every layer's version, or none")
        }
        return (.layers(names), versioned == 0 ? nil : String(s))
    }

    func handle(_ request: Request, _ context: OneMapRequestContext) async throws -> Response {
        let caller = context.caller
        let target = try Self.parse(request.uri.path)
        return try await Self.answeringTileErrors {
            switch target {
            case let .tileJSON(selection, grid):
                if let archive = archives.archive(for: selection, grid: grid) {
                    return try ArchiveTiles.tileJSON(archive, baseURL: proxy.baseURL(request))
                }
                let (service, base) = (tiles, proxy.baseURL(request))
                var response = try await Blocking.run {
                    try Response.json(object: service.tileJSON(selection, grid: grid, baseURL: base, for: caller))
                }
                response.headers[.accessControlAllowOrigin] = "*"
                response.headers[.cacheControl] = caller.role == nil ? "no-cache" : "private, no-cache"
                response.headers[.vary] = "Authorization"
                return response
            case let .tile(selection, key, grid, pinned, format):
                if let archive = archives.archive(for: selection, grid: grid) { return try ArchiveTiles.tile(archive, key, request) }
                return try await tile(request, selection, key, grid, pinned: pinned, format: format, context)
            case .ogcTileSets:
                return try await ogcTileSets(request, .all, tilesPath: "/tiles", caller: caller)
            case .ogcTileSet(let grid):
                return try await ogcTileSet(request, .all, grid: grid, tilesPath: "/tiles", caller: caller)
            }
        }
    }

    /// The tile service's errors as the API's: a layer the caller may not see, or a tile
    /// past its matrix, is not found.
    static func answeringTileErrors(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let e as TileError {
            switch e {
            case .unknownLayer: throw Problem.notFound(e.description)
            case .outOfRange: throw Problem(.notFound, "tile out of range", e.description)
            }
        }
    }

    /// How long a tile may be kept. A tile of given versions never changes, so a year and
    /// `immutable` (no revalidation on reload); without versions, revalidate every time. A
    /// shared cache (a proxy) may never keep a tile that holds a restricted layer.
    static func cacheControl(versioned: Bool, restricted: Bool) -> String {
        (restricted ? "private, " : versioned ? "public, " : "") + (versioned ? "max-age=31536000, immutable" : "no-cache")
    }

    func tile(
        _ request: Request, _ selection: TileSelection, _ key: TileKey, _ grid: TileMatrixSet, pinned: String?, format: Substring,
        _ context: OneMapRequestContext
    ) async throws -> Response {
        let caller = context.caller
        let service = tiles
        // The layers as of now, and the tile made from exactly those: a reload in between
        // cannot put another version's tile under a versioned URL.
        let sources: [StoreLayerSource]
        if let current = try service.currentSources(selection, for: caller) {
            sources = current
        } else {
            sources = try await deadline.runBlocking { try service.sources(selection, for: caller) }
        }
        if let pinned {
            let current = TileService.versionedPath(selection, sources)
            if pinned != current { throw Self.notCurrent(pinned, current, key, grid, format) }
        }
        let tile: CachedTile
        if let quick = try service.quickTile(of: sources, key, grid: grid) {
            tile = quick.tile
            metrics.tileCache(hit: !quick.made)
        } else {
            // Made off the server's threads: a cold low-zoom tile can take a while.
            metrics.tileCache(hit: false)
            tile = try await deadline.runBlocking { try service.tile(of: sources, key, grid: grid) }
        }
        let restricted = sources.contains { $0.layer.spec.access != .public }
        if restricted, !tile.isEmpty {
            // Features are not counted per tile (they are encoded, not listed); the tile and its size say what was read.
            let id = RequestLog.id(request, context)
            for source in sources where source.layer.spec.access != .public {
                access.note(
                    caller, requestID: id, route: "GET /tiles", layer: source.name,
                    what: "tile \(grid.id) \(key.z)/\(key.x)/\(key.y) (\(tile.bytes.count) bytes with every layer asked)", returned: nil)
            }
        }
        return try Self.answer(
            etag: tile.etag, isEmpty: tile.isEmpty, request: request,
            cacheControl: Self.cacheControl(versioned: pinned != nil, restricted: restricted),
            plain: { tile.bytes }, gzip: { try service.gzipped(tile) })
    }

    /// A versioned URL whose versions are no longer current: a redirect to the current ones
    /// (never kept, as it changes with the next reload), which maps opened before a reload
    /// follow without asking for TileJSON again.
    static func notCurrent(_ pinned: String, _ current: String, _ key: TileKey, _ grid: TileMatrixSet, _ format: Substring) -> Problem {
        let location = grid.tilesPath + "\(current)/\(key.z)/\(key.x)/\(key.y).\(format)"
        return Problem(
            .found, "not the current version", "\(pinned) is not current; the current tiles are \(current) (\(location))",
            headers: [.location: location, .cacheControl: "no-cache", .accessControlAllowOrigin: "*"])
    }

    /// A tile's answer, made on demand or read from an archive: 200 with the bytes (gzip when
    /// accepted; each form asked for only when sent), 204 when empty, 304 when the caller's
    /// ETag still holds.
    static func answer(
        etag identityTag: String, isEmpty: Bool, request: Request, cacheControl: String, vary: String = "Accept-Encoding, Authorization",
        plain: () throws -> [UInt8], gzip: () throws -> [UInt8]
    ) throws -> Response {
        let wantsGzip = acceptsGzip(request.headers[.acceptEncoding])
        let gzipTag = String(identityTag.dropLast()) + "-gz\""
        var headers: HTTPFields = [
            .eTag: wantsGzip && !isEmpty ? gzipTag : identityTag,
            .vary: vary,
            .cacheControl: cacheControl,
            .accessControlAllowOrigin: "*"
        ]
        if let inm = request.headers[.ifNoneMatch], matches(inm, [identityTag, gzipTag]) {
            return Response(status: .notModified, headers: headers)
        }
        if isEmpty { return Response(status: .noContent, headers: headers) }
        headers[.contentType] = "application/vnd.mapbox-vector-tile"
        if wantsGzip { headers[.contentEncoding] = "gzip" }
        let body = wantsGzip ? try gzip() : try plain()
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `If-None-Match`: a list of entity tags (weak ones compare by their opaque part), or `*`.
    static func matches(_ header: String, _ tags: [String]) -> Bool {
        for raw in header.split(separator: ",") {
            var t = raw.trimmingCharacters(in: .whitespaces)
            if t == "*" { return true }
            if t.hasPrefix("W/") { t.removeFirst(2) }
            if tags.contains(t) { return true }
        }
        return false
    }

    /// gzip unless the client says nothing of it or gives it q=0. Plain string work, no
    /// Foundation: this runs for every tile.
    static func acceptsGzip(_ header: String?) -> Bool {
        // Byte by byte, with no allocation: it runs for every tile. Each element is
        // `coding[;param…]`; the first that names gzip (or `*`) decides, by its q.
        guard let header else { return false }
        var utf8 = header.utf8[...]
        while !utf8.isEmpty {
            let end = utf8.firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
            let element = utf8[utf8.startIndex..<end]
            utf8 = end == utf8.endIndex ? utf8[end...] : utf8[utf8.index(after: end)...]
            var params = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)[...]
            guard let coding = params.popFirst() else { continue }
            let name = trimmed(coding)
            guard equalsIgnoringCase(name, "gzip") || (name.count == 1 && name.first == UInt8(ascii: "*")) else { continue }
            for p in params {
                let param = trimmed(p)
                guard param.count >= 2, param.first == UInt8(ascii: "q") || param.first == UInt8(ascii: "Q"),
                    param[param.index(after: param.startIndex)] == UInt8(ascii: "=")
                else { continue }
                return (Double(String(decoding: param.dropFirst(2), as: UTF8.self)) ?? 1) > 0
            }
            return true
        }
        return false
    }

    private static func trimmed(_ s: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    private static func equalsIgnoringCase(_ s: Substring.UTF8View.SubSequence, _ lower: StaticString) -> Bool {
        guard s.count == lower.utf8CodeUnitCount else { return false }
        var i = 0
        for b in s {
            let c = b >= 0x41 && b <= 0x5A ? b + 0x20 : b
            if c != lower.utf8Start[i] { return false }
            i += 1
        }
        return true
    }
}
