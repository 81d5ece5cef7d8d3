import Foundation
import Hummingbird
import LayerStore
import Logging
import NIOCore
import Tiles

/// Answers anonymous `GET`s of tiles straight from the bytes a connection sent, in front of
/// NIO's HTTP decoder and Hummingbird's router: tiles in the cache, and tiles quick to make
/// (`TileService.quickTile`: one layer held in memory, z15 and up, well under a millisecond).
///
/// Why: a map pans through hundreds of tiles a second, nearly all of them cached. Through the
/// router each took a Swift task, an async hop and every middleware (~0.2 ms of CPU); just
/// behind the HTTP codec still ~0.11 ms, much of it decoding the request into `HTTPRequest`,
/// building `HTTPFields` and encoding them again, which held the warm cache near 12,000
/// tiles/s on two cores (wrk takes ~0.05 ms a request of the same cores). Here a hit costs framing the head (`RequestHead`), one pragma (has a
/// layer changed?), the lookup, and one write: the response head's fixed part is made once
/// per status and encoding (`PreparedHeads`), and only the ETag, request id, date and length
/// are written per request.
///
/// It answers exactly as the tile route would (`TileRoutes.decide` and `headers`: ETag,
/// 304, 204, gzip, Cache-Control, Vary, CORS) and does what the middleware would: the same
/// request id (`X-Request-Id` when sane, else Hummingbird's), the same log line, the same
/// metrics. Every other request goes on to the decoder as the bytes that came, one whole
/// request at a time: any other path, a key (it must be checked, and may see restricted
/// layers), a slow miss, an error (the route words it), a large tile's gzip form not yet
/// made, and every request while one handed on is still unanswered (`ResponseTally`), so
/// answers never overtake each other on a connection.
final class TileFastPath: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let tiles: TileService
    let metrics: ServerMetrics
    let logger: Logger
    let serverName: String
    let heads: PreparedHeads
    /// Tile paths already parsed: the parse is a pure function of the path, and splitting
    /// it was a tenth of a hit's cost.
    let targets: BoundedTable<TileRoutes.Target?>
    let tally: ResponseTally
    /// The start of a request whose head has not all come.
    private var held: ByteBuffer?
    /// Body bytes of the request handed on last that are still to come.
    private var bodyLeft = 0
    /// Framing was in doubt once: everything is the decoder's from then on.
    private var handedOver = false

    /// Tiles up to this size are gzipped here when a client first asks (~0.1 ms for 64 KiB);
    /// larger ones the first time through the router, off the network threads.
    static let gzipHere = 64 * 1024

    init(tiles: TileService, metrics: ServerMetrics, logger: Logger, serverName: String, heads: PreparedHeads,
         targets: BoundedTable<TileRoutes.Target?>, tally: ResponseTally) {
        self.tiles = tiles
        self.metrics = metrics
        self.logger = logger
        self.serverName = serverName
        self.heads = heads
        self.targets = targets
        self.tally = tally
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if handedOver { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if var start = held {
            start.writeBuffer(&bytes)
            bytes = start
            held = nil
        }
        var answeredAny = false
        defer { if answeredAny { context.flush() } }
        while bytes.readableBytes > 0 {
            if bodyLeft > 0 {
                let n = min(bodyLeft, bytes.readableBytes)
                bodyLeft -= n
                context.fireChannelRead(wrapInboundOut(bytes.readSlice(length: n)!))
                continue
            }
            switch bytes.withUnsafeReadableBytes({ RequestHead.frame($0) }) {
            case .incomplete:
                held = bytes
                return
            case .unframable:
                handedOver = true
                return context.fireChannelRead(wrapInboundOut(bytes))
            case let .request(headLength, bodyLength, quick):
                if let quick, tally.unanswered <= 0, answered(quick, context: context) {
                    bytes.moveReaderIndex(forwardBy: headLength)
                    answeredAny = true
                } else {
                    tally.handedOn += 1
                    bodyLeft = bodyLength
                    context.fireChannelRead(wrapInboundOut(bytes.readSlice(length: headLength)!))
                }
            }
        }
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

    /// Writes the answer and returns true, or returns false to let the router have it.
    private func answered(_ request: RequestHead.Quick, context: ChannelHandlerContext) -> Bool {
        // Only short paths are kept, so a client cannot fill the table with long ones.
        let target = request.target.utf8.count <= 128
            ? targets.value(request.target, orMake: { try? TileRoutes.parse(request.target) })
            : try? TileRoutes.parse(request.target)
        guard case .tile(let selection, let key, let grid)? = target else { return false }
        let started = DispatchTime.now().uptimeNanoseconds
        // Throws for a restricted or unknown layer or a tile out of range: the route answers those.
        let tiles = self.tiles
        guard let (cached, made) = try? tiles.quickTile(selection, key, grid: grid, for: .anonymous),
              let decision = TileRoutes.decide(cached, acceptEncoding: request.acceptEncoding, ifNoneMatch: request.ifNoneMatch,
                                               gzip: { $0.gzippedIfMade ?? ($0.bytes.count <= Self.gzipHere ? try? tiles.gzipped($0) : nil) })
        else { return false }
        metrics.tileAnsweredOnEventLoop(hit: !made)

        let given = RequestLog.sane(request.requestID)
        let hummingbirdID = RequestID().description
        var out = context.channel.allocator.buffer(capacity: 400 + (decision.body?.count ?? 0))
        heads.write(decision, into: &out)
        out.writeString("X-Request-Id: " + (given ?? hummingbirdID) + "\r\nDate: " + HTTPDate.now() + "\r\nServer: " + serverName + "\r\n")
        if let body = decision.body { out.writeString("Content-Length: " + String(body.count) + "\r\n") }
        out.writeStaticString("\r\n")
        if let body = decision.body { out.writeBytes(body) }
        context.write(wrapOutboundOut(out), promise: nil)

        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        metrics.request(route: "/tiles/**", method: "GET", status: decision.status.code, duration: .microseconds(Int64(micros)))
        // The ids as the router's logger would carry them: Hummingbird's, and the caller's.
        RequestLog.log(logger, method: "GET", path: request.target, status: decision.status.code, micros: micros,
                       ids: (hummingbirdID, given))
        return true
    }
}

/// The fixed part of a fast tile answer's head: the status line, then the ETag, then every
/// other header that `TileRoutes.headers` gives an anonymous caller, which depend only on the
/// status and the encoding. A tile answer has one of four such forms (200 plain or gzip, 204,
/// 304), made once; only the ETag is written per answer.
struct PreparedHeads: Sendable {
    private struct Head: Sendable {
        let statusLine: [UInt8]
        let rest: [UInt8]

        init(_ status: HTTPResponse.Status, gzip: Bool) {
            statusLine = Array("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
            var text = ""
            for field in TileRoutes.headers(.init(status: status, etag: "", gzip: gzip), caller: .anonymous) where field.name != .eTag {
                text += field.name.rawName + ": " + field.value + "\r\n"
            }
            rest = Array(text.utf8)
        }
    }

    private let ok = Head(.ok, gzip: false), okGzip = Head(.ok, gzip: true)
    private let noContent = Head(.noContent, gzip: false), notModified = Head(.notModified, gzip: false)

    func write(_ decision: TileRoutes.Decision, into out: inout ByteBuffer) {
        let head: Head
        switch decision.status {
        case .ok: head = decision.gzip ? okGzip : ok
        case .noContent: head = noContent
        case .notModified: head = notModified
        default: head = Head(decision.status, gzip: decision.gzip)  // `decide` gives no other
        }
        out.writeBytes(head.statusLine)
        out.writeString("ETag: " + decision.etag + "\r\n")
        out.writeBytes(head.rest)
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate).
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let text = PerSecondText { second in
        var t = second
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }

    static func now() -> String { text.now() }
}
