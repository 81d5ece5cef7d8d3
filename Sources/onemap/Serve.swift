import ArgumentParser
import Conflicts
import Foundation
import Hummingbird
import Identity
import LayerStore
import OneMapServer
import PostGISStore
import Tiles

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API over HTTP.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Flag(help: "Let anonymous callers post checks (for demos; not for production).") var open = false
    @Option(help: "Largest request body, in bytes (413 past it).") var maxBody = ServerConfiguration.Limits().maxBodyBytes
    @Option(help: "Most vertices a site may have (413 past it).") var maxVertices = ServerConfiguration.Limits().maxSiteVertices
    @Option(help: "Most items per page of features or check records.") var maxPage = ServerConfiguration.Limits().maxPageSize
    @Option(help: "Most features one layer of one tile holds.") var maxTileFeatures = ServerConfiguration.Limits().maxTileFeatures
    @Option(help: "Checks, ledgers and audits computed at once (default: the number of cores, at least 2).")
    var maxConcurrent = ServerConfiguration.Limits().maxConcurrentWork
    @Option(help: "How many more may wait for a slot; past that, 503 with Retry-After.") var maxQueued = ServerConfiguration.Limits()
        .maxQueuedWork
    @Option(help: "Longest a request may take, in seconds (503 past it; 0 for none).") var timeout = 60.0
    @Option(help: "Seconds a connection may sit idle before the server closes it (0 for never).")
    var idleTimeout = ServerConfiguration.Limits().idleTimeoutSeconds
    @Option(help: "Most connections open at once; past it, new ones wait until one closes. Keep it under `ulimit -n`.")
    var maxConnections = ServerConfiguration.Limits().maxConnections
    @Option(help: "Most bytes a check's answer and its stored GeoJSON may take together (413 past it; nothing is stored).")
    var maxAnswer = ServerConfiguration.Limits().maxAnswerBytes
    @Option(help: "Anonymous checks per minute per client with --open (429 with Retry-After past it; 0 for no limit).")
    var openRate = 60
    @Option(
        help:
            "Megabytes of large layers' rows kept in memory for checks (500,000 farmland parcels take ~150; 0 reads them from the database)."
    )
    var checkMemoryMb = ConflictChecker.rowMemoryLimit >> 20
    @Flag(
        help: "Believe X-Forwarded-Host, -Proto and -For from a reverse proxy in front (links, and the client's address for --open-rate).")
    var trustProxy = false
    @Option(
        help: ArgumentHelp(
            "The viewer's MapLibre GL JS and styles: a `make install` share/onemap or a checkout (default: <bindir>/../share/onemap, the checkout of a .build binary, then the working directory).",
            valueName: "dir"))
    var assets: String?
    @Option(
        help: ArgumentHelp(
            "Accept bearer tokens from the city's identity provider (OIDC), as this file says (deploy/auth.example.yaml); API keys keep working.",
            valueName: "auth.yaml"))
    var auth: String?
    @Option(
        help: ArgumentHelp(
            "Serve the tiles of this PMTiles or MBTiles archive (`onemap tiles export`) at the URLs of the selection it holds; repeatable. Without --db (and no database at the default path), a tile server with no database.",
            valueName: "archive"))
    var tiles: [String] = []

    func run() async throws {
        var archives: [any TileArchive] = []
        for file in tiles {
            do {
                archives.append(try TileArchives.open(file))
            } catch {
                throw ValidationError("--tiles: \(error)")
            }
        }
        let upstream = try database.upstream()
        let path = upstream.map { database.cachePath(for: $0) } ?? database.target
        if !archives.isEmpty, database.db == nil, upstream == nil, !FileManager.default.fileExists(atPath: path) {
            return try await serveArchives(archives)
        }
        guard upstream != nil || FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no database at \(path): load one first with `onemap load`")
        }
        for (name, value) in [
            ("--max-body", maxBody), ("--max-vertices", maxVertices), ("--max-page", maxPage),
            ("--max-tile-features", maxTileFeatures), ("--max-concurrent", maxConcurrent),
            ("--max-connections", maxConnections), ("--max-answer", maxAnswer)
        ] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        guard maxQueued >= 0, timeout >= 0, timeout.isFinite, openRate >= 0 else {
            throw ValidationError("--max-queued, --timeout and --open-rate must be 0 or more")
        }
        guard checkMemoryMb >= 0 else { throw ValidationError("--check-memory-mb must be 0 or more, got \(checkMemoryMb)") }
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be 0 or more, got \(idleTimeout)") }
        LineLogHandler.bootstrap()
        var tokens: TokenVerifier? = nil
        if let auth {
            do {
                let verifier = try await TokenVerifier.make(try AuthConfiguration.load(file: auth))
                print(
                    "single sign-on: tokens from \(verifier.configuration.issuer) (\(verifier.keyCount) keys, audience \(verifier.configuration.audiences.joined(separator: ", ")))"
                )
                tokens = verifier
            } catch {
                throw ValidationError("--auth \(auth): \(error)")
            }
        }
        let store = upstream == nil ? try Store(path: path) : try DatabaseOptions.cacheStore(path)
        var follower: PostGISFollower? = nil
        let access = upstream.map { PostGISAccess(location: $0) }
        if let upstream {
            follower = try await Replica.start(
                following: upstream, standby: try database.standby(), into: store, records: PostGISRecords(location: upstream))
        }
        if open {
            FileHandle.standardError.write(
                Data(
                    "warning: --open lets anyone who reaches this port post checks and read check records without a key; use it only for demos\n"
                        .utf8))
        }
        let viewerAssets = ViewerAssets.forThisProcess(explicit: assets)
        if viewerAssets.maplibre == nil {
            FileHandle.standardError.write(Data("warning: the viewer will not draw maps: \(viewerAssets.missingMaplibre)\n".utf8))
        }
        let config = ServerConfiguration(
            host: host, port: port, open: open,
            limits: .init(
                maxBodyBytes: maxBody, maxSiteVertices: maxVertices, maxPageSize: maxPage,
                maxTileFeatures: maxTileFeatures, maxConcurrentWork: maxConcurrent,
                maxQueuedWork: maxQueued, requestTimeoutSeconds: timeout,
                idleTimeoutSeconds: idleTimeout, maxConnections: maxConnections,
                maxAnswerBytes: maxAnswer, openChecksPerMinute: openRate, checkRowMemoryBytes: checkMemoryMb << 20),
            trustProxy: trustProxy, assets: viewerAssets)
        var configuration = config
        configuration.tokens = tokens
        configuration.tileArchives = archives
        if let follower {
            configuration.upstream = .init(name: follower.location.description, problem: { follower.problem })
            configuration.recordUpstream = follower.records
            configuration.accessUpstream = access
            configuration.keyAdministration = PostGISKeys(location: follower.location, local: KeyRing(store: store))
        }
        let from = try database.standby().map { " from its standby \($0)" } ?? ""
        print("OneMap serving \(upstream.map { "\($0) (copied\(from) into \(path))" } ?? path) at http://\(host):\(port)")
        let app = buildApplication(store: store, configuration: configuration)
        guard let follower else { return try await app.runService() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await follower.run() }
            try await app.runService()
            group.cancelAll()
            follower.records?.close()
            access?.close()
        }
    }
}

extension Serve {
    /// Archives alone: a read-only tile server with no database.
    func serveArchives(_ archives: [any TileArchive]) async throws {
        LineLogHandler.bootstrap()
        var configuration = ServerConfiguration(host: host, port: port)
        configuration.trustProxy = trustProxy
        configuration.limits.idleTimeoutSeconds = idleTimeout
        configuration.limits.maxConnections = maxConnections
        for a in archives {
            let at = a.grid.tilesPath + a.name
            print(
                "OneMap serving \(a.path) (z\(a.zooms.lowerBound)–\(a.zooms.upperBound)) at http://\(host):\(port)\(at)/{z}/{x}/{y}.mvt, no database"
            )
        }
        try await buildArchiveApplication(archives: archives, configuration: configuration).runService()
    }
}

/// A replica of a PostGIS database: its layers copied into the local store before it serves,
/// then followed as new versions are loaded.
enum Replica {
    static func start(
        following location: PostGISLocation, standby: PostGISLocation?, into store: Store, records: PostGISRecords
    ) async throws -> PostGISFollower {
        let copied = try await PostGISDatabase.with(location) { db in
            try await PostGISKeys.copy(db, into: KeyRing(store: store))
            return try await PostGISMirror.with(primary: db, standby: standby, store: store) { try await $0.sync() }
        }
        for c in copied {
            say("copied version \(c.version) of '\(c.layer)' (\(c.count) features) in \(String(format: "%.1f", c.seconds)) s")
        }
        afterCopying(copied, store: store)
        return PostGISFollower(
            location: location, standby: standby, store: store, records: records, onCopied: { afterCopying($0, store: store) }, log: say)
    }

    @Sendable static func say(_ line: String) { FileHandle.standardError.write(Data("replica: \(line)\n".utf8)) }

    /// Works out the 地类 under the farmland for a new farmland or land-use version, as a load
    /// does. A server does it on a thread of its own at a lower priority (at a city's millions
    /// of 图斑 it takes seconds, and checks overlay the parcels meanwhile, so it must not take
    /// their cores); a command, which answers once, waits for it (`wait`).
    static func afterCopying(_ copied: [PostGISMirror.Copied], store: Store, wait: Bool = false) {
        guard let changed = copied.first(where: { $0.kind == .farmland || $0.kind == .landUse }) else { return }
        let work: @Sendable () -> Void = {
            let (_, warning) = ParcelLandUse.afterLoading(changed.kind, store: store)
            if let warning { say("warning: \(warning)") }
        }
        if wait { work() } else { Blocking.startBackgroundThread(named: "parcel-land-use", nice: 10, work) }
    }
}
