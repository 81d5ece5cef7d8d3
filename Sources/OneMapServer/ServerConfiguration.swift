import Conflicts
import Foundation
import Identity
import LayerStore
import Tiles

/// How the server runs: where it listens and the limits that keep hostile or careless
/// clients from hurting everyone else. Parsed by the CLI, separate from the runtime.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Anonymous callers may post checks (the demo); otherwise an approver key is needed.
    public var open: Bool
    public var limits: Limits
    /// Believe a reverse proxy's `X-Forwarded-Host`, `-Proto` and `-For` (links and the
    /// client's address for rate limits); without it anyone could send them.
    public var trustProxy: Bool
    /// Where the viewer's MapLibre GL JS and the styles were found (`serve --assets`).
    public var assets: ViewerAssets
    /// A replica's database upstream, for `/health`: what it is, and nil while the replica
    /// follows it, else why not (the replica answers from its copy meanwhile).
    public var upstream: Upstream?
    /// A replica's shared store of check records (its database), written before each check is
    /// acknowledged; nil on one machine.
    public var recordUpstream: (any RecordUpstream)?
    /// A replica's shared store of access records (its database), which they reach a moment
    /// after their answers and `GET /v1/access` lists; nil on one machine.
    public var accessUpstream: (any AccessUpstream)?
    /// Where `/v1/keys` makes and revokes keys: a replica's shared database; nil, the store.
    public var keyAdministration: (any KeyAdministration)?
    /// Bearer tokens from the city's identity provider (`serve --auth`); nil, keys only.
    public var tokens: TokenVerifier?
    /// Pre-made tile archives (`--tiles`), answering the URLs of the selection each holds.
    public var tileArchives: [any TileArchive] = []
    /// The time the anonymous-check rate limit refills by: the clock, unless a test holds it
    /// still (a test of the limit must not depend on how fast a loaded machine runs it).
    public var openRateClock: @Sendable () -> ContinuousClock.Instant = { .now }

    public struct Upstream: Sendable {
        public var name: String
        public var problem: @Sendable () -> String?
        public init(name: String, problem: @escaping @Sendable () -> String?) {
            self.name = name
            self.problem = problem
        }
    }

    /// Every limit has a safe default; `onemap serve --help` lists the options that change them.
    public struct Limits: Sendable {
        /// Largest request body accepted, in bytes (413 past it).
        public var maxBodyBytes: Int
        /// Most vertices a site may have (413 past it).
        public var maxSiteVertices: Int
        /// Most items a list returns per page (400 past it).
        public var maxPageSize: Int
        /// Most features one layer of one tile holds; past it tiles generalise harder.
        public var maxTileFeatures: Int
        /// Checks, ledgers and audits computed at once; each keeps a core busy.
        public var maxConcurrentWork: Int
        /// How many more may wait for a slot; past that the answer is 503 with Retry-After.
        public var maxQueuedWork: Int
        /// Longest a request may take, in seconds (503 past it); 0 for none. `onemap serve`
        /// sets 60 s; the library leaves it off, because a wall-clock limit in a process that
        /// also runs other heavy work (a test run) fires for reasons that are not the request's.
        public var requestTimeoutSeconds: Double
        /// Seconds a connection may sit idle (no request coming in, no answer going out)
        /// before the server closes it; 0 for never. Idle sockets otherwise pile up until
        /// the process runs out of file descriptors.
        public var idleTimeoutSeconds: Double
        /// Most connections open at once. Past it the server accepts no more until one
        /// closes: new ones wait in the kernel's listen queue (256), then are refused. Keep
        /// it under the process's file-descriptor limit (`ulimit -n`).
        public var maxConnections: Int
        /// Most bytes a check's answer and its stored GeoJSON take together (413 past it,
        /// nothing stored): records are kept forever.
        public var maxAnswerBytes: Int
        /// Anonymous checks a client may post per minute under `--open` (429 past it); 0 for
        /// no limit. `onemap serve` sets 60; the library leaves it off, as tests post many.
        public var openChecksPerMinute: Int
        /// Bytes of large layers' rows the checker copies into memory, so a check reads its
        /// candidates without SQLite (see `ConflictChecker.rowMemoryLimit`); 0 for none.
        public var checkRowMemoryBytes: Int

        public init(
            maxBodyBytes: Int = 8 << 20, maxSiteVertices: Int = SiteLimits.defaultMaxVertices, maxPageSize: Int = 10_000,
            maxTileFeatures: Int = 20_000,
            maxConcurrentWork: Int = max(2, ProcessInfo.processInfo.activeProcessorCount),
            maxQueuedWork: Int = 64, requestTimeoutSeconds: Double = 0,
            idleTimeoutSeconds: Double = 60, maxConnections: Int = 4096,
            maxAnswerBytes: Int = CheckRecords.defaultMaxAnswerBytes, openChecksPerMinute: Int = 0,
            checkRowMemoryBytes: Int = ConflictChecker.rowMemoryLimit
        ) {
            self.checkRowMemoryBytes = max(0, checkRowMemoryBytes)
            self.maxAnswerBytes = maxAnswerBytes
            self.openChecksPerMinute = max(0, openChecksPerMinute)
            self.maxBodyBytes = maxBodyBytes
            self.maxSiteVertices = maxSiteVertices
            self.maxPageSize = maxPageSize
            self.maxTileFeatures = maxTileFeatures
            self.maxConcurrentWork = max(1, maxConcurrentWork)
            self.maxQueuedWork = max(0, maxQueuedWork)
            self.requestTimeoutSeconds = requestTimeoutSeconds
            self.idleTimeoutSeconds = max(0, idleTimeoutSeconds)
            self.maxConnections = max(1, maxConnections)
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 8080, open: Bool = false, limits: Limits = Limits(),
        trustProxy: Bool = false, assets: ViewerAssets = ViewerAssets(searching: [FileManager.default.currentDirectoryPath])
    ) {
        self.trustProxy = trustProxy
        self.assets = assets
        self.host = host
        self.port = port
        self.open = open
        self.limits = limits
    }
}
