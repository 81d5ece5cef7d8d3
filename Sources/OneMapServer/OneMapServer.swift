import Conflicts
import Foundation
import Hummingbird
import HummingbirdCore
import LayerStore
import Logging
import NIOCore
import Tiles

/// What the routes share: the store, the limits, and the instruments that enforce and
/// report them. One per application.
struct ServerContext: Sendable {
    let store: Store
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let gate: WorkGate
    let deadline: Deadline
    let tiles: TileService
    let records: CheckRecords
    /// Reads of restricted data (全留痕), beside the check records.
    let access: AccessRecords
    let reports: ReportCache
    /// Anonymous checks per client under `--open`; nil when unlimited or not open.
    let openRate: ClientRateLimit?
    let openRateClock: @Sendable () -> ContinuousClock.Instant
    let proxy: ProxyHeaders
    /// Whether a scoped caller's site lies in its scope (boundaries prepared once).
    let siteScope = SiteScope()

    init(store: Store, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
        let limits = configuration.limits
        metrics = ServerMetrics()
        gate = WorkGate(slots: limits.maxConcurrentWork, queueLimit: limits.maxQueuedWork)
        deadline = Deadline(seconds: limits.requestTimeoutSeconds)
        tiles = TileService(store: store, options: TileOptions(maxFeatures: limits.maxTileFeatures))
        records = CheckRecords(
            store: store, maxAnswerBytes: limits.maxAnswerBytes,
            checker: ConflictChecker(store: store, boxesInMemory: true, rowMemoryBytes: limits.checkRowMemoryBytes),
            upstream: configuration.recordUpstream)
        access = AccessRecords(store: store, upstream: configuration.accessUpstream)
        // A report is about its record's size: a few of the largest are kept.
        reports = ReportCache(capacityBytes: max(16 << 20, 4 * limits.maxAnswerBytes))
        openRateClock = configuration.openRateClock
        openRate = configuration.open && limits.openChecksPerMinute > 0 ? ClientRateLimit(perMinute: limits.openChecksPerMinute) : nil
        proxy = ProxyHeaders(trusted: configuration.trustProxy)
    }
}

/// Builds the OneMap HTTP application (its routes: `registerRoutes`).
/// Middleware runs outside in: request id and log line, metrics (which see the final
/// status), errors to problems (RFC 9457), then the caller's key.
public func buildApplication(store: Store, configuration: ServerConfiguration) -> some ApplicationProtocol {
    let server = ServerContext(store: store, configuration: configuration)
    server.tiles.warmInBackground()
    server.records.checker.warmInBackground()
    configuration.recordUpstream?.attach(server.records)
    // Records an earlier process acknowledged but had not drawn the geometry of.
    server.records.resumeDrawing()
    // Every GET route answers HEAD too: the GET's status and headers, no body.
    let router = Router(context: OneMapRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: server.metrics))
    router.add(middleware: ProblemMiddleware(methods: MethodTable(paths: OpenAPI.document.paths)))
    router.add(middleware: AuthMiddleware(keys: KeyRing(store: store), tokens: configuration.tokens))
    registerRoutes(on: router, server: server)
    // Hummingbird's logger, with its level from LOG_LEVEL.
    let serverName = "OneMap"
    var logger = Logger(label: serverName)
    if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { logger.logLevel = level }
    let limits = configuration.limits
    let idle = limits.idleTimeoutSeconds > 0 ? TimeAmount.nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9)) : nil
    return Application(
        router: router,
        // The same limit for answers that do not drain as for a connection with nothing to do.
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ContinueHandler()] + (idle.map { [StalledWriteHandler(timeout: $0)] } ?? []),
                idleTimeout: idle)),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
        services: [AccessRecordsAtShutdown(records: server.access)],
        logger: logger
    )
}

/// Every route. `router` is the application's, or in a test one that only lists them
/// (RouteDocumentTests compares them with openapi.yaml).
func registerRoutes(on router: some RouterMethods<OneMapRequestContext>, server: ServerContext) {
    let store = server.store
    HealthRoutes(server: server).register(on: router)
    CheckRoutes(server: server).register(on: router.group("v1/checks"))
    KeyRoutes(keys: server.configuration.keyAdministration ?? KeyRing(store: store)).register(on: router.group("v1/keys"))
    LayerRoutes(server: server).register(on: router)
    LedgerRoutes(server: server).register(on: router)
    AccessRoutes(server: server).register(on: router)
    CallerRoutes(server: server).register(on: router)
    ViewerRoutes(assets: server.configuration.assets).register(on: router)
    let features = FeatureRoutes(server: server)
    features.register(on: router)
    IdentifyRoutes(store: store, access: AccessNotes(records: server.access)).register(on: router)
    OpenAPIRoutes(features: features).register(on: router)
    var tileRoutes = TileRoutes(
        service: server.tiles, metrics: server.metrics, deadline: server.deadline, proxy: server.proxy,
        access: AccessNotes(records: server.access))
    tileRoutes.archives = ArchiveTiles(archives: server.configuration.tileArchives)
    tileRoutes.register(on: router)
    StyleRoutes(store: store, proxy: server.proxy, stylesDirectory: server.configuration.assets.styles).register(on: router)
    // Unknown paths answer with the same problem shape as everything else (and a known path
    // asked with another method, 405: see ProblemMiddleware).
    router.get("**") { request, _ -> Response in throw Problem.notFound("no route for \(request.uri.path)") }
}

extension Response {
    static func json(_ data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        json(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), status: status)
    }
}
