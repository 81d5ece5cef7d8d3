import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing
import VectorIO

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

    /// (Server and Date are added by the running application, so the router alone has neither.)
    static let compared: [HTTPFields.Element.Name] = [.eTag, .vary, .cacheControl, .accessControlAllowOrigin, .contentType, .contentEncoding]

    /// A hit answered on the event loop is exactly what the router answers for the same tile
    /// (asked of the router alone, without the channel handler): status, bytes and headers,
    /// plain and gzip; and a 304 for its ETag.
    @Test func aHitIsAnsweredAsTheRouteAnswers() async throws {
        let store = try farmlandStore()
        let configuration = ServerConfiguration(open: true)
        var routed: [String: TestResponse] = [:]
        try await buildApplication(store: store, configuration: configuration).test(.router) { client in
            for encoding in ["identity", "gzip"] {
                routed[encoding] = try await client.execute(uri: Self.tile, method: .get, headers: [.acceptEncoding: encoding])
            }
        }
        try await buildApplication(store: store, configuration: configuration).test(.live) { client in
            let before = try await Self.answeredOnEventLoop(client)
            for encoding in ["identity", "gzip"] {
                let h: HTTPFields = [.acceptEncoding: encoding]
                _ = try await client.execute(uri: Self.tile, method: .get, headers: h)
                let hit = try await client.execute(uri: Self.tile, method: .get, headers: h)
                let route = try #require(routed[encoding])
                #expect(route.status == .ok && hit.status == route.status && hit.body == route.body, "\(encoding)")
                for name in Self.compared {
                    #expect(hit.headers[name] == route.headers[name], "\(name) with \(encoding)")
                }
                #expect(hit.headers[.date] != nil && hit.headers[.server] == "OneMap")
                #expect(hit.headers[.contentEncoding] == (encoding == "gzip" ? "gzip" : nil))
                let etag = try #require(hit.headers[.eTag])
                let revalidated = try await client.execute(uri: Self.tile, method: .get, headers: [.acceptEncoding: encoding, .ifNoneMatch: etag])
                #expect(revalidated.status == .notModified && revalidated.body.readableBytes == 0)
            }
            // Plain: the first request made the tile through the route (the layer is small, so
            // not held in memory), then a hit and a 304. Gzip: the cached tile is small, so it
            // is gzipped on the event loop: three.
            #expect(try await Self.answeredOnEventLoop(client) - before == 5)
        }
    }

    /// A layer held in memory: a z16 tile not yet made is made on the event loop, and is the
    /// router's tile byte for byte.
    @Test func aQuickTileIsMadeOnTheEventLoop() async throws {
        let store = try Self.parcelStore(count: 5_000)
        let configuration = ServerConfiguration(open: true)
        let fresh = "/tiles/farmland/16/54614/27453.mvt"
        var routed: TestResponse?
        try await buildApplication(store: store, configuration: configuration).test(.router) { client in
            routed = try await client.execute(uri: fresh, method: .get)
        }
        try await buildApplication(store: store, configuration: configuration).test(.live) { client in
            // A z13 tile goes through the router, which waits for the layer to be in memory.
            #expect(try await client.execute(uri: "/tiles/farmland/13/6827/3431.mvt", method: .get).status == .ok)
            let before = try await Self.answeredOnEventLoop(client)
            let made = try await client.execute(uri: fresh, method: .get)
            #expect(made.status == .ok && made.body == routed?.body && made.headers[.eTag] == routed?.headers[.eTag])
            #expect(try await Self.answeredOnEventLoop(client) == before + 1)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("onemap_tile_cache_lookups_total{result=\"miss\"} 2"), "the z13 tile and this one were made")
        }
    }

    /// `count` parcels of about 40 m on a grid from (120, 28): a layer large enough to be held
    /// in memory for tiles (4,096 features or more).
    static func parcelStore(count: Int) throws -> Store {
        let dir = NSTemporaryDirectory() + "onemap-quick-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/farmland.geojson"
        let w = try VectorWriter(path: path, format: .geoJSON, layerName: "farmland", crs: "EPSG:4490", geometryType: "Polygon",
                                 fields: [FieldDefinition(name: "BSM", type: .text)])
        for i in 0..<count {
            let x = 120 + Double(i % 100) * 0.0005, y = 28 + Double(i / 100) * 0.0005
            try w.write(geometry: .polygon(Polygon([[Coordinate(x, y), Coordinate(x + 0.0004, y), Coordinate(x + 0.0004, y + 0.0004),
                                                     Coordinate(x, y + 0.0004), Coordinate(x, y)]])), attributes: [.text("P\(i)")])
        }
        try w.close()
        let store = try Store(path: dir + "/onemap.sqlite")
        _ = try LayerImporter(store: store).load(LayerSpec(name: "farmland", title: "永久基本农田", kind: .farmland, source: path, idField: "BSM"))
        return store
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
