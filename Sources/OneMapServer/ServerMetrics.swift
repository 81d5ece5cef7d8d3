import Foundation
import GRDB
import Hummingbird
import LayerStore
import Prometheus
import Synchronization
import Tiles

/// What `GET /metrics` reports, in Prometheus's text format: requests and latency per route,
/// tile cache hits and misses, check durations, heavy work running and waiting, and the
/// version of every public layer (restricted layers are not named where anyone can read).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)
    ]

    /// The counter and histogram of each (route, method, status), made once: the registry's
    /// own lookup builds and compares label arrays under its lock, too much for every tile.
    private struct RequestInstruments: Sendable {
        let count: Counter
        let latency: DurationHistogram
    }
    private let requestInstruments = Mutex<[String: RequestInstruments]>([:])
    private let cacheHits: Counter
    private let cacheMisses: Counter

    init() {
        let cache = MetricNameDescriptor(
            metricName: "onemap_tile_cache_lookups", unitName: "total",
            helpText: "Tile requests answered from the cache (hit) or made (miss)")
        cacheHits = registry.makeCounter(descriptor: cache, labels: [("result", "hit")])
        cacheMisses = registry.makeCounter(descriptor: cache, labels: [("result", "miss")])
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = method + " " + route + " " + String(status)
        let instruments = requestInstruments.withLock { known -> RequestInstruments in
            if let i = known[key] { return i }
            let i = RequestInstruments(
                count: registry.makeCounter(
                    descriptor: .init(
                        metricName: "onemap_http_requests", unitName: "total",
                        helpText: "HTTP requests answered, by route, method and status"),
                    labels: [("route", route), ("method", method), ("status", String(status))]),
                latency: registry.makeDurationHistogram(
                    descriptor: .init(
                        metricName: "onemap_http_request_duration", unitName: "seconds",
                        helpText: "Time to the response head, by route and method"),
                    labels: [("route", route), ("method", method)], buckets: Self.latencyBuckets))
            known[key] = i
            return i
        }
        instruments.count.increment()
        instruments.latency.record(duration)
    }

    func tileCache(hit: Bool) {
        (hit ? cacheHits : cacheMisses).increment()
    }

    func check(verdict: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(
                metricName: "onemap_check_duration", unitName: "seconds",
                helpText: "Time to compute a conflict check, by verdict"),
            labels: [("verdict", verdict)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// The text a scrape gets. Values that are states rather than events are read now.
    func render(store: Store, tiles: TileService, gate: WorkGate, reports: ReportCache) async throws -> [UInt8] {
        let layers = try await store.read { db in try Store.loadedLayers(db) }
        for layer in layers where layer.spec.access == .public {
            registry.makeGauge(
                descriptor: .init(
                    metricName: "onemap_layer_version", unitName: "", helpText: "Current version number of each public layer"),
                labels: [("layer", layer.name)]
            ).set(Double(layer.version.number))
            registry.makeGauge(
                descriptor: .init(
                    metricName: "onemap_layer_features", unitName: "", helpText: "Features in the current version of each public layer"),
                labels: [("layer", layer.name)]
            ).set(Double(layer.version.count))
        }
        registry.makeGauge(descriptor: .init(metricName: "onemap_tile_cache", unitName: "bytes", helpText: "Bytes held by the tile cache"))
            .set(Double(tiles.cache.bytesUsed))
        registry.makeGauge(
            descriptor: .init(metricName: "onemap_tile_cache", unitName: "entries", helpText: "Tiles held by the tile cache")
        )
        .set(Double(tiles.cache.count))
        let (running, waiting) = (gate.running, gate.waiting)
        registry.makeGauge(
            descriptor: .init(metricName: "onemap_work_running", unitName: "", helpText: "Checks, ledgers and audits being computed")
        )
        .set(Double(running))
        registry.makeGauge(
            descriptor: .init(metricName: "onemap_work_waiting", unitName: "", helpText: "Checks, ledgers and audits waiting for a slot")
        )
        .set(Double(waiting))
        registry.makeGauge(
            descriptor: .init(
                metricName: "onemap_report_renders", unitName: "total", helpText: "Check reports rendered (each is kept and rendered once)")
        )
        .set(Double(await reports.renders))
        return registry.emitToBuffer()
    }
}

/// Counts every request by the route it matched (the pattern, not the path, so ids and
/// tile numbers do not explode the label set) and the status it finally got.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = OneMapRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let response = try await next(request, context)
            metrics.request(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                duration: clock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, duration: clock.now - started)
            throw error
        }
    }
}
