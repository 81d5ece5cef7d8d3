import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing

@testable import OneMapServer
@testable import Tiles

/// The HTTP side: routes, status codes, ETag/304, gzip, errors, styles.
struct TileRoutesTests {
    static let repoStyles = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Styles").path

    /// Two public layers and a restricted one around (120.005, 28.005).
    static func store() throws -> Store {
        let fx = try TileFixtures()
        try fx.layer(
            "zones", fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "GNFQ", type: .text)],
            [(.polygon(Polygon([TileFixtures.box(120.0, 28.0, 120.01, 28.01)])), [.text("A"), .text("核心区")])])
        try fx.layer(
            "pipes", kind: .pipeline, geometryType: "LineString",
            [(.lineString([Coordinate(119.99, 28.005), Coordinate(120.02, 28.006)]), [.text("GD1")])])
        try fx.layer("secret", access: .restricted, [(.polygon(Polygon([TileFixtures.box(120.0, 28.0, 120.01, 28.01)])), [.text("S")])])
        return fx.store
    }

    static func app(_ store: Store, styles: String = repoStyles) -> some ApplicationProtocol {
        let router = Router(context: OneMapRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        TileRoutes(store: store).register(on: router)
        StyleRoutes(store: store, stylesDirectory: styles).register(on: router)
        return Application(router: router)
    }

    /// z/x/y of the z-tile over the test data.
    static func path(_ z: Int, grid: TileMatrixSet = .webMercatorQuad) -> String {
        let r = grid.tiles(covering: BoundingBox(120.005, 28.005, 120.005, 28.005), z: z)
        return "\(z)/\(r.x.lowerBound)/\(r.y.lowerBound)"
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    @Test func tilesAnswerWithETagGzipAnd304() async throws {
        try await Self.app(try Self.store()).test(.router) { client in
            let plain = try await client.execute(uri: "/tiles/zones/\(Self.path(13)).mvt", method: .get)
            #expect(plain.status == .ok)
            #expect(plain.headers[.contentType] == "application/vnd.mapbox-vector-tile")
            #expect(plain.headers[.contentEncoding] == nil)
            let etag = try #require(plain.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
            let tile = try decodeTile(Array(buffer: plain.body))
            #expect(tile.layer("zones")?.features.first?.properties["GNFQ"] == .string("核心区"))

            let pbf = try await client.execute(uri: "/tiles/zones/\(Self.path(13)).pbf", method: .get)
            #expect(Array(buffer: pbf.body) == Array(buffer: plain.body) && pbf.headers[.eTag] == etag)

            let gz = try await client.execute(
                uri: "/tiles/zones/\(Self.path(13)).mvt", method: .get, headers: [.acceptEncoding: "br, gzip;q=0.8"])
            #expect(gz.headers[.contentEncoding] == "gzip" && gz.headers[.vary] == "Accept-Encoding, Authorization")
            #expect(try Gzip.decompress(Array(buffer: gz.body)) == Array(buffer: plain.body))
            let gzTag = try #require(gz.headers[.eTag])
            #expect(gzTag != etag)
            let noGzip = try await client.execute(
                uri: "/tiles/zones/\(Self.path(13)).mvt", method: .get, headers: [.acceptEncoding: "gzip;q=0"])
            #expect(noGzip.headers[.contentEncoding] == nil)

            for tag in [etag, gzTag, "\"other\", \(etag)", "W/\(etag)", "*"] {
                let again = try await client.execute(uri: "/tiles/zones/\(Self.path(13)).mvt", method: .get, headers: [.ifNoneMatch: tag])
                #expect(again.status == .notModified, "If-None-Match: \(tag)")
                #expect(again.body.readableBytes == 0 && again.headers[.eTag] != nil)
            }
            let stale = try await client.execute(
                uri: "/tiles/zones/\(Self.path(13)).mvt", method: .get, headers: [.ifNoneMatch: "\"0123\""])
            #expect(stale.status == .ok)

            // Nothing there: 204.
            let empty = try await client.execute(uri: "/tiles/zones/13/0/0.mvt", method: .get)
            #expect(empty.status == .noContent && empty.body.readableBytes == 0)
        }
    }

    @Test func acceptEncodingIsReadAsRFC9110Says() {
        for yes in ["gzip", "GZIP", "br, gzip", "gzip;q=0.5", " gzip ; q=1 ", "*", "deflate, *;q=0.1", "gzip\t;\tq=0.001"] {
            #expect(TileRoutes.acceptsGzip(yes), "\(yes)")
        }
        for no in [nil, "", "identity", "br", "gzip;q=0", "gzip; q=0.0", "*;q=0", "gzipx", "x-gzip2"] as [String?] {
            #expect(!TileRoutes.acceptsGzip(no), "\(no ?? "nil")")
        }
    }

    @Test func compositeTilesAndTheCGCS2000Grid() async throws {
        try await Self.app(try Self.store()).test(.router) { client in
            let pair = try await client.execute(uri: "/tiles/zones,pipes/\(Self.path(12)).mvt", method: .get)
            #expect(try decodeTile(Array(buffer: pair.body)).layers.map(\.name) == ["zones", "pipes"])
            let braces = try await client.execute(uri: "/tiles/%7Bpipes,zones%7D/\(Self.path(12)).mvt", method: .get)
            #expect(try decodeTile(Array(buffer: braces.body)).layers.map(\.name) == ["pipes", "zones"])
            let all = try await client.execute(uri: "/tiles/onemap/\(Self.path(12)).mvt", method: .get)
            #expect(try decodeTile(Array(buffer: all.body)).layers.map(\.name).sorted() == ["pipes", "zones"], "restricted layers stay out")

            let geo = try await client.execute(uri: "/tiles/4490/zones/\(Self.path(12, grid: .cgcs2000Quad)).mvt", method: .get)
            #expect(geo.status == .ok)
            #expect(try decodeTile(Array(buffer: geo.body)).layer("zones")?.features.count == 1)
            let geoAll = try await client.execute(uri: "/tiles/4490/onemap/\(Self.path(12, grid: .cgcs2000Quad)).mvt", method: .get)
            #expect(geoAll.status == .ok && geoAll.headers[.eTag] != all.headers[.eTag])
        }
    }

    @Test func tileJSONDescribesLayersAndGrid() async throws {
        try await Self.app(try Self.store()).test(.router) { client in
            let r = try await client.execute(uri: "/tiles/onemap.json", method: .get)
            #expect(r.status == .ok)
            let j = try json(r.body)
            #expect(j["tilejson"] as? String == "3.0.0")
            let template = try #require((j["tiles"] as? [String])?.first)
            #expect(template.wholeMatch(of: #/http://localhost/tiles/onemap@[0-9a-f]{1,16}/\{z\}/\{x\}/\{y\}\.mvt/#) != nil, "\(template)")
            #expect(j["minzoom"] as? Int == 0 && j["maxzoom"] as? Int == 16)
            let bounds = try #require(j["bounds"] as? [Double])
            #expect(bounds.count == 4 && abs(bounds[0] - 119.99) < 1e-9 && abs(bounds[3] - 28.01) < 1e-9)
            #expect((j["center"] as? [Double])?.count == 3)
            let layers = try #require(j["vector_layers"] as? [[String: Any]])
            #expect(layers.compactMap { $0["id"] as? String }.sorted() == ["pipes", "zones"])
            let zones = try #require(layers.first { $0["id"] as? String == "zones" })
            #expect((zones["fields"] as? [String: String])?["GNFQ"] == "String")

            let one = try json(try await client.execute(uri: "/tiles/zones.json", method: .get).body)
            #expect(one["tiles"] as? [String] == ["http://localhost/tiles/zones@1/{z}/{x}/{y}.mvt"])
            let geo = try json(try await client.execute(uri: "/tiles/4490/zones,pipes.json", method: .get).body)
            #expect(geo["tiles"] as? [String] == ["http://localhost/tiles/4490/zones@1,pipes@1/{z}/{x}/{y}.mvt"])
            #expect(geo["crs"] as? String == "EPSG:4490")
        }
    }

    @Test func badRequestsGetJSONErrors() async throws {
        let cases: [(String, HTTPResponse.Status)] = [
            ("/tiles/zones/25/0/0.mvt", .notFound),  // zoom past 24
            ("/tiles/zones/3/8/0.mvt", .notFound),  // x past the matrix
            ("/tiles/4490/zones/3/0/4.mvt", .notFound),  // the geographic matrix has half the rows
            ("/tiles/zones/a/0/0.mvt", .badRequest),
            ("/tiles/zones/1/-1/0.mvt", .badRequest),
            ("/tiles/zones/1/0/0.png", .badRequest),
            ("/tiles/zones/1/0/0", .badRequest),
            ("/tiles/zones/1/0.mvt", .badRequest),
            ("/tiles/zones/1/0/0/0.mvt", .badRequest),
            ("/tiles/Zones/1/0/0.mvt", .badRequest),
            ("/tiles/zones,/1/0/0.mvt", .badRequest),
            ("/tiles/..%2Fsecret/1/0/0.mvt", .badRequest),
            ("/tiles/zones/99999999999/0/0.mvt", .badRequest),
            ("/tiles/nosuch/1/0/0.mvt", .notFound),
            ("/tiles/zones,nosuch/1/0/0.mvt", .notFound),
            ("/tiles/secret/1/0/0.mvt", .notFound),  // restricted: as if it did not exist
            ("/tiles/secret.json", .notFound),
            ("/tiles/nosuch.json", .notFound),
            ("/tiles/zones.xml", .badRequest),
            ("/tiles/zones@1,pipes/1/0/0.mvt", .badRequest),  // versions for some layers only
            ("/tiles/zones@/1/0/0.mvt", .badRequest),
            ("/tiles/zones@v1/1/0/0.mvt", .badRequest),
            ("/tiles/onemap@xyz/1/0/0.mvt", .badRequest),
            ("/tiles/zones@1.json", .badRequest),  // TileJSON gives the versions
            ("/tiles/nosuch@1/1/0/0.mvt", .notFound),
            ("/tiles/secret@1/1/0/0.mvt", .notFound)  // restricted: as if it did not exist
        ]
        try await Self.app(try Self.store()).test(.router) { client in
            for (uri, status) in cases {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == status, "\(uri)")
                let body = try? json(r.body)
                #expect(r.headers[.contentType] == "application/problem+json", "\(uri)")
                #expect(
                    body?["status"] as? Int == Int(status.code) && body?["code"] is String && body?["detail"] is String,
                    "\(uri): \(String(buffer: r.body))")
            }
        }
    }

    @Test func stylesAreServedWithSourcesOnTheServingHost() async throws {
        try await Self.app(try Self.store()).test(.router) { client in
            let r = try await client.execute(uri: "/styles/onemap.json", method: .get)
            #expect(r.status == .ok)
            let style = try json(r.body)
            #expect(style["version"] as? Int == 8)
            let sources = try #require(style["sources"] as? [String: [String: Any]])
            #expect(sources["onemap"]?["url"] as? String == "http://localhost/tiles/onemap.json")
            // Drawn are only the layers there are: these are neither farmland nor water_source.
            let layers = try #require(style["layers"] as? [[String: Any]]).compactMap { $0["source-layer"] as? String }
            #expect(!layers.contains("farmland") && !layers.contains("water_source"))
            #expect(try await client.execute(uri: "/styles/farmland.json", method: .get).status == .notFound)
        }
    }

    @Test func styleNamesCannotLeaveTheFolder() async throws {
        let root = NSTemporaryDirectory() + "onemap-styles-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/Styles", withIntermediateDirectories: true)
        try Data(
            #"{"version": 8, "sources": {"s": {"type": "vector", "tiles": ["/tiles/zones/{z}/{x}/{y}.mvt", "https://cdn.example/t.mvt"]}}, "layers": []}"#
                .utf8
        )
        .write(to: URL(fileURLWithPath: root + "/Styles/ok.json"))
        try Data(#"{"secret": true}"#.utf8).write(to: URL(fileURLWithPath: root + "/secret.json"))
        try await Self.app(try Self.store(), styles: root + "/Styles").test(.router) { client in
            let ok = try json(try await client.execute(uri: "/styles/ok.json", method: .get).body)
            let tiles = (ok["sources"] as? [String: [String: Any]])?["s"]?["tiles"] as? [String]
            #expect(tiles == ["http://localhost/tiles/zones/{z}/{x}/{y}.mvt", "https://cdn.example/t.mvt"])
            for uri in [
                "/styles/..%2Fsecret.json", "/styles/%2E%2E%2Fsecret.json", "/styles/..%2f..%2fetc%2fpasswd.json",
                "/styles/OK.json", "/styles/ok.JSON", "/styles/ok", "/styles/a.b.json", "/styles/.json"
            ] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .badRequest, "\(uri)")
                #expect(!String(buffer: r.body).contains("secret\": true"))
            }
            for uri in ["/styles/../secret.json", "/styles/nosuch.json"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .notFound || r.status == .badRequest, "\(uri)")
                #expect(!String(buffer: r.body).contains("secret\": true"))
            }
        }
    }

    @Test func theApplicationServesTilesAndStyles() async throws {
        // buildApplication wires the routes (the styles folder of the current directory).
        let app = buildApplication(store: try Self.store(), configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let json = try await client.execute(uri: "/tiles/onemap.json", method: .get)
            let tile = try await client.execute(uri: "/tiles/zones/\(Self.path(12)).mvt", method: .get)
            let bad = try await client.execute(uri: "/tiles/zones/40/0/0.mvt", method: .get)
            #expect(json.status == .ok && tile.status == .ok && bad.status == .notFound)
        }
    }

    /// The tile URL a TileJSON gives with its filled-in z/x/y, as a path.
    static func tilePath(_ client: some TestClientProtocol, _ tileJSON: String, z: Int = 12, headers: HTTPFields = [:]) async throws
        -> String
    {
        let r = try await client.execute(uri: tileJSON, method: .get, headers: headers)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
        let template = try #require((object["tiles"] as? [String])?.first)
        let grid: TileMatrixSet = tileJSON.hasPrefix("/tiles/4490/") ? .cgcs2000Quad : .webMercatorQuad
        return String(template.dropFirst("http://localhost".count)).replacingOccurrences(of: "{z}/{x}/{y}", with: path(z, grid: grid))
    }

    /// TileJSON (itself `no-cache`) gives URLs with the versions in them; those are kept a
    /// year without asking again, while the same tile without versions is revalidated each
    /// time. Both answer the same bytes and ETag, and a 304 for it.
    @Test func versionedTileURLsAreCachedForever() async throws {
        try await Self.app(try Self.store()).test(.router) { client in
            for tileJSON in ["/tiles/zones.json", "/tiles/zones,pipes.json", "/tiles/onemap.json", "/tiles/4490/onemap.json"] {
                #expect(try await client.execute(uri: tileJSON, method: .get).headers[.cacheControl] == "no-cache", "\(tileJSON)")
                let versioned = try await Self.tilePath(client, tileJSON)
                let plain = versioned.replacingOccurrences(of: "@[0-9a-f]+", with: "", options: .regularExpression)
                #expect(versioned != plain && versioned.contains("@"), "\(versioned)")
                let forever = try await client.execute(uri: versioned, method: .get)
                let revalidated = try await client.execute(uri: plain, method: .get)
                #expect(forever.status == .ok && forever.headers[.cacheControl] == "public, max-age=31536000, immutable", "\(versioned)")
                #expect(revalidated.status == .ok && revalidated.headers[.cacheControl] == "no-cache", "\(plain)")
                #expect(forever.body == revalidated.body && forever.headers[.eTag] == revalidated.headers[.eTag], "\(versioned)")
                let etag = try #require(forever.headers[.eTag])
                #expect(try await client.execute(uri: versioned, method: .get, headers: [.ifNoneMatch: etag]).status == .notModified)
            }
            #expect(try await client.execute(uri: "/styles/onemap.json", method: .get).headers[.cacheControl] == "no-cache")
        }
    }

    /// After a reload, a URL of the old version redirects to the current one (not kept: it
    /// changes with the next reload), so a map opened before goes on working; the URL
    /// without versions answers the new tile at once.
    @Test func aReloadRedirectsTheOldVersionsURLs() async throws {
        let fx = try TileFixtures()
        try fx.layer("zones", [(.polygon(Polygon([TileFixtures.box(120.0, 28.0, 120.01, 28.01)])), [.text("A")])])
        try fx.layer(
            "pipes", kind: .pipeline, geometryType: "LineString",
            [(.lineString([Coordinate(119.99, 28.005), Coordinate(120.02, 28.006)]), [.text("GD1")])])
        try await Self.app(fx.store).test(.router) { client in
            let old = try await Self.tilePath(client, "/tiles/zones.json")
            let oldAll = try await Self.tilePath(client, "/tiles/onemap.json")
            let oldPlain = try #require(try await client.execute(uri: "/tiles/zones/\(Self.path(12)).mvt", method: .get).headers[.eTag])
            #expect(old == "/tiles/zones@1/\(Self.path(12)).mvt")
            try fx.layer("zones", [(.polygon(Polygon([TileFixtures.box(120.0, 28.0, 120.02, 28.02)])), [.text("B")])])

            let moved = try await client.execute(uri: old, method: .get)
            #expect(moved.status == .found && moved.headers[.location] == "/tiles/zones@2/\(Self.path(12)).mvt")
            #expect(moved.headers[.cacheControl] == "no-cache")
            #expect((try json(moved.body)["detail"] as? String)?.contains("zones@2") == true)
            let current = try await client.execute(uri: try #require(moved.headers[.location]), method: .get)
            #expect(current.status == .ok && current.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(
                try await client.execute(uri: "/tiles/zones/\(Self.path(12)).mvt", method: .get).headers[.eTag] == current.headers[.eTag])
            #expect(current.headers[.eTag] != oldPlain)

            let newAll = try await Self.tilePath(client, "/tiles/onemap.json")
            #expect(newAll != oldAll)
            #expect(try await client.execute(uri: oldAll, method: .get).headers[.location] == newAll)
            // A version never made, a composite, the other grid and .pbf: each to its current form.
            let geo = Self.path(12, grid: .cgcs2000Quad)
            for (asked, location) in [
                ("/tiles/zones@9/\(Self.path(12)).mvt", "/tiles/zones@2/\(Self.path(12)).mvt"),
                ("/tiles/pipes@1,zones@1/\(Self.path(12)).mvt", "/tiles/pipes@1,zones@2/\(Self.path(12)).mvt"),
                ("/tiles/4490/zones@1/\(geo).pbf", "/tiles/4490/zones@2/\(geo).pbf")
            ] {
                let r = try await client.execute(uri: asked, method: .get)
                #expect(r.status == .found && r.headers[.location] == location, "\(asked)")
            }
        }
    }
}
