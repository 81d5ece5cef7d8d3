import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// Cached tiles are answered on the event loop (TileFastPath), before the router. These run
/// a real server (`.live`), since the fast path sits in the channel pipeline that the
/// router-only test client skips; `/metrics` says which path answered.
struct TileFastPathTests {
    static let tile = "/tiles/farmland/16/54613/27454.mvt"
    static let composite = "/tiles/onemap/16/54613/27454.mvt"

    /// How many tiles the event loop answered so far.
    static func answeredOnEventLoop(_ client: some TestClientProtocol) async throws -> Int {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        let line = text.split(separator: "\n").first { $0.hasPrefix("onemap_tiles_answered_on_event_loop_total") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    static let compared: [HTTPFields.Element.Name] = [.eTag, .vary, .cacheControl, .accessControlAllowOrigin, .contentType, .contentEncoding, .server]

    /// The second request for a tile (a hit) gets exactly what the first (made by the route)
    /// got: status, bytes and headers, plain and gzip, and a 304 for its ETag.
    @Test func aHitIsAnsweredAsTheRouteAnswers() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let before = try await Self.answeredOnEventLoop(client)
            for encoding in [nil, "gzip"] as [String?] {
                let h: HTTPFields = encoding.map { [.acceptEncoding: $0] } ?? [:]
                let made = try await client.execute(uri: Self.tile, method: .get, headers: h)
                #expect(made.status == .ok)
                let hit = try await client.execute(uri: Self.tile, method: .get, headers: h)
                #expect(hit.status == made.status && hit.body == made.body, "\(encoding ?? "identity")")
                for name in Self.compared {
                    #expect(hit.headers[name] == made.headers[name], "\(name) with \(encoding ?? "identity")")
                }
                #expect(hit.headers[.date] != nil)
                #expect(hit.headers[.contentEncoding] == encoding)
                let etag = try #require(hit.headers[.eTag])
                let revalidated = try await client.execute(uri: Self.tile, method: .get, headers: h + [.ifNoneMatch: etag])
                #expect(revalidated.status == .notModified && revalidated.body.readableBytes == 0)
            }
            // Plain: a hit and a 304. Gzip: the first request made the gzip form through the
            // route (the event loop does not compress), then a hit and a 304.
            #expect(try await Self.answeredOnEventLoop(client) - before == 4)
        }
    }

    /// Request ids as the middleware gives them: a sane X-Request-Id is echoed, anything else
    /// replaced by a fresh id.
    @Test func requestIdsAsTheMiddlewareGivesThem() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            _ = try await client.execute(uri: Self.tile, method: .get)
            let given = try await client.execute(uri: Self.tile, method: .get, headers: [RequestLogName.header: "approval-42.a_b"])
            #expect(given.headers[RequestLogName.header] == "approval-42.a_b")
            let a = try await client.execute(uri: Self.tile, method: .get, headers: [RequestLogName.header: "no spaces allowed"])
            let b = try await client.execute(uri: Self.tile, method: .get)
            let ida = try #require(a.headers[RequestLogName.header]), idb = try #require(b.headers[RequestLogName.header])
            // Hummingbird's form: hex, a per-process part and a 16-digit counter.
            #expect(ida != idb && [ida, idb].allSatisfy { $0.count > 16 && $0.allSatisfy(\.isHexDigit) }, "\(ida), \(idb)")
        }
    }

    /// A key is checked by the router, never by the fast path; a restricted layer a viewer
    /// put in the cache stays invisible to anonymous callers.
    @Test func keysAndRestrictedLayersGoThroughTheRouter() async throws {
        let store = try storeWithRestrictedLayer()
        let viewer = try KeyRing(store: store).create(role: .viewer, name: "规划查询").secret
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            let key: HTTPFields = [.authorization: "Bearer \(viewer)"]
            for _ in 0..<2 {
                let secret = try await client.execute(uri: "/tiles/secret/16/54613/27454.mvt", method: .get, headers: key)
                #expect(secret.status == .ok)
                let all = try await client.execute(uri: Self.composite, method: .get, headers: key)
                #expect(String(buffer: all.body).contains("secret"))
            }
            let before = try await Self.answeredOnEventLoop(client)
            let anonymous = try await client.execute(uri: "/tiles/secret/16/54613/27454.mvt", method: .get)
            #expect(anonymous.status == .notFound)
            let bad = try await client.execute(uri: Self.composite, method: .get, headers: [.authorization: "Bearer om_nonsense"])
            #expect(bad.status == .unauthorized, "a bad key is refused even when the tile is cached")
            #expect(try await Self.answeredOnEventLoop(client) == before, "neither is answered before the router")
            // The anonymous composite holds the farmland alone: the farmland tile the viewer's
            // composite cached, answered on the event loop, without the secret layer.
            let all = try await client.execute(uri: Self.composite, method: .get)
            #expect(all.status == .ok && !String(buffer: all.body).contains("secret"))
            #expect(try await Self.answeredOnEventLoop(client) == before + 1)
        }
    }

    /// A reload is seen by the very next request, cached tile or not.
    @Test func aReloadIsSeenAtOnce() async throws {
        let store = try farmlandStore()
        let admin = try KeyRing(store: store).create(role: .admin, name: nil).secret
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.live) { client in
            _ = try await client.execute(uri: Self.tile, method: .get)
            let old = try #require(try await client.execute(uri: Self.tile, method: .get).headers[.eTag])
            let reload = try await client.execute(uri: "/v1/layers/farmland/reload", method: .post, headers: [.authorization: "Bearer \(admin)"])
            #expect(reload.status == .created)
            let new = try #require(try await client.execute(uri: Self.tile, method: .get).headers[.eTag])
            #expect(new != old)
        }
    }
}

private enum RequestLogName {
    static let header = HTTPFields.Element.Name("X-Request-Id")!
}

private func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
    var out = a
    out.append(contentsOf: b)
    return out
}
