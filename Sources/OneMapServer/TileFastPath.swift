import Foundation
import Hummingbird
import LayerStore
import Logging
import NIOCore
import NIOHTTPTypes
import Tiles

/// Answers anonymous `GET`s of tiles on the event loop, before the request reaches
/// Hummingbird's router: tiles in the cache, and tiles quick to make (`TileService.quickTile`:
/// one layer held in memory, z15 and up, well under a millisecond).
///
/// Why: a map pans through hundreds of tiles a second, nearly all of them cached. Through the
/// router each one took a Swift task, an async hop and every middleware: ~0.2 ms of CPU for a
/// lookup in a dictionary, which capped the warm cache at ~5,600 tiles/s on two cores. Here
/// a hit costs the HTTP codec, one pragma (has a layer changed?) and the lookup.
///
/// It answers exactly as the tile route would (`TileRoutes.answer`: ETag, 304, 204, gzip,
/// Cache-Control, Vary, CORS) and does what the middleware would: the same request id
/// (`X-Request-Id` when sane, else Hummingbird's), the same log line, the same metrics.
/// Everything else passes through untouched: any other path, a key (`Authorization`: it
/// must be checked, and may see restricted layers), a slow miss, an error (the route words
/// it), a large tile's gzip form not yet made, a query string, a
/// `Connection` header other than keep-alive, and every request while one passed on is still unanswered (so
/// answers never overtake each other on a connection).
final class TileFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let tiles: TileService
    let metrics: ServerMetrics
    let logger: Logger
    let serverName: String
    /// Requests passed on to the router whose answer has not ended yet.
    private var unanswered = 0
    /// Inside a request answered here: its body and end are dropped.
    private var swallowing = false

    /// Tiles up to this size are gzipped here when a client first asks (~0.1 ms for 64 KiB);
    /// larger ones the first time through the router, off the network threads.
    static let gzipHere = 64 * 1024

    init(tiles: TileService, metrics: ServerMetrics, logger: Logger, serverName: String) {
        self.tiles = tiles
        self.metrics = metrics
        self.logger = logger
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if unanswered == 0, answered(head, context: context) {
                swallowing = true
                return
            }
            unanswered += 1
            context.fireChannelRead(data)
        case .body:
            if !swallowing { context.fireChannelRead(data) }
        case .end:
            if swallowing { swallowing = false } else { context.fireChannelRead(data) }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered = max(0, unanswered - 1) }
        context.write(data, promise: promise)
    }

    /// `Connection: close` (or an upgrade) is the router's to honour; `keep-alive`, which
    /// browsers send, is what the fast path does anyway.
    static func endsConnection(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.split(separator: ",").contains { token in
            let t = token.trimmingCharacters(in: .whitespaces).lowercased()
            return t != "keep-alive"
        }
    }

    /// Sends the answer and returns true, or returns false to let the router have it.
    private func answered(_ head: HTTPRequest, context: ChannelHandlerContext) -> Bool {
        guard head.method == .get, let path = head.path, path.utf8.starts(with: "/tiles/".utf8),
              !path.utf8.contains(UInt8(ascii: "?")),
              head.headerFields[.authorization] == nil, !Self.endsConnection(head.headerFields[.connection]),
              case .tile(let selection, let key, let grid)? = try? TileRoutes.parse(path)
        else { return false }
        let started = DispatchTime.now().uptimeNanoseconds
        // Throws for a restricted or unknown layer or a tile out of range: the route answers those.
        let tiles = self.tiles
        guard let (cached, made) = try? tiles.quickTile(selection, key, grid: grid, for: .anonymous),
              let answer = TileRoutes.answer(cached, acceptEncoding: head.headerFields[.acceptEncoding],
                                             ifNoneMatch: head.headerFields[.ifNoneMatch], caller: .anonymous,
                                             gzip: { $0.gzippedIfMade ?? ($0.bytes.count <= Self.gzipHere ? try? tiles.gzipped($0) : nil) })
        else { return false }
        metrics.tileAnsweredOnEventLoop(hit: !made)

        let given = RequestLog.sane(head.headerFields[RequestLog.header])
        let hummingbirdID = RequestID().description
        var headers = answer.headers
        headers[RequestLog.header] = given ?? hummingbirdID
        headers[.date] = HTTPDate.now()
        headers[.server] = serverName
        if let body = answer.body { headers[.contentLength] = String(body.count) }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: headers))), promise: nil)
        if let body = answer.body {
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)

        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        metrics.request(route: "/tiles/**", method: "GET", status: answer.status.code, duration: .microseconds(Int64(micros)))
        // The logger's metadata as the router would have it: Hummingbird's id, and the caller's.
        var requestLogger = logger
        requestLogger[metadataKey: "hb.request.id"] = .string(hummingbirdID)
        if let given { requestLogger[metadataKey: "request_id"] = .string(given) }
        RequestLog.log(requestLogger, method: "GET", path: path, status: answer.status.code, micros: micros)
        return true
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), made at most once a second.
enum HTTPDate {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: (second: Int, text: String) = (-1, "")
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        var t = time(nil)
        lock.lock()
        defer { lock.unlock() }
        if cached.second == t { return cached.text }
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let text = "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
        cached = (t, text)
        return text
    }
}
