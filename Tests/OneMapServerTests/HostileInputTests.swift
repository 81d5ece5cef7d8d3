import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing

@testable import OneMapServer

/// Hostile input over real HTTP: SQL injection in every parameter and body field,
/// path traversal on the file-serving routes, huge tile coordinates, deeply nested JSON, bodies
/// past the size limit and a 部标 TXT with millions of points. Each gets a clean 4xx with a problem
/// body (RFC 9457; or, where the value is only data, a normal answer that matches nothing), nothing
/// is stored or changed by it, and the server keeps answering.
///
/// `FeaturesTests/FeatureFilterTests` already covers injection in the
/// items query parameters, and `TilesTests/TileRoutesTests` the style names in router mode.
struct HostileInputTests {
    static let injections = [
        "' OR '1'='1", "' OR 1=1 --", "1; DROP TABLE onemap_checks; --", "farmland'; DELETE FROM onemap_layers; --",
        "\" OR \"\"=\"", "1) OR (1=1", "') OR ('a'='a", "' UNION SELECT sql, sql FROM sqlite_master --",
        "1 UNION ALL SELECT load_extension('/tmp/x')", "'; ATTACH DATABASE '/tmp/onemap-pwn.db' AS pwn; --",
        "*/ SELECT 1 /*", "%27%20OR%201%3D1", "\u{0}", "farmland\u{0}' OR 1=1", "lyr_farmland_1", "onemap_checks",
        "${jndi:ldap://127.0.0.1/x}", "<script>alert(1)</script>", "../../../../etc/passwd", "-1", "1e308", "NaN"
    ]

    /// Percent-encodes everything but letters and digits, as a careful client would.
    static func q(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    static func app(limits: ServerConfiguration.Limits = .init()) throws -> (some ApplicationProtocol, Store) {
        let store = try farmlandStore()
        return (
            buildApplication(store: store, configuration: ServerConfiguration(open: true, limits: limits)),
            store
        )
    }

    /// What the database holds that no request may change: the schema and the row counts.
    static func fingerprint(_ store: Store) throws -> [String] {
        try store.pool.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master ORDER BY 1")
            var rows: [String] = []
            for table in ["onemap_layers", "onemap_checks"] {
                rows.append("\(table) \(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? -1)")
            }
            return tables + rows
        }
    }

    /// A 4xx answer with a problem body; returns its detail.
    @discardableResult
    static func expectCleanError(_ r: TestResponse, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect((400..<500).contains(r.status.code), "\(what): \(r.status)", sourceLocation: sourceLocation)
        #expect(
            r.headers[.contentType] == "application/problem+json", "\(what): content type \(r.headers[.contentType] ?? "none")",
            sourceLocation: sourceLocation)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body))) as? [String: Any]
        let problem = object?["status"] as? Int == Int(r.status.code) && object?["code"] is String && object?["detail"] is String
        #expect(problem, "\(what): the body is not a problem: \(String(buffer: r.body).prefix(200))", sourceLocation: sourceLocation)
        return (object?["detail"] as? String) ?? ""
    }

    /// A normal answer or a clean 4xx: never a 5xx, never a non-JSON error.
    static func expectNotAServerError(_ r: TestResponse, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if r.status.code >= 400 { expectCleanError(r, what, sourceLocation: sourceLocation) }
        #expect(r.status.code < 500, "\(what): \(r.status) \(String(buffer: r.body).prefix(300))", sourceLocation: sourceLocation)
    }

    /// The server still answers: health, and a real check that is stored.
    static func expectStillServing(_ client: some TestClientProtocol, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let health = try await client.execute(uri: "/health", method: .get)
        #expect(health.status == .ok, sourceLocation: sourceLocation)
        let check = try await client.execute(
            uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: siteOverP))
        #expect(check.status == .created, "a real check after the hostile ones: \(check.status)", sourceLocation: sourceLocation)
    }

    // MARK: SQL injection

    /// Every query parameter and path segment of every route except the items query (covered in
    /// FeaturesTests), with each injection string: a 4xx, or a normal answer that matches nothing.
    @Test func sqlInjectionInEveryParameter() async throws {
        let (app, store) = try Self.app()
        let before = try Self.fingerprint(store)
        try await app.test(.router) { client in
            var requests = 0
            for value in Self.injections {
                let v = Self.q(value)
                let uris = [
                    "/v1/checks?projectCode=\(v)", "/v1/checks?limit=\(v)", "/v1/checks?offset=\(v)",
                    "/v1/checks/\(v)", "/v1/checks/\(v)/report", "/v1/checks/\(v)/geojson",
                    "/v1/identify?lon=\(v)&lat=28", "/v1/identify?lon=120&lat=\(v)", "/v1/identify?lon=120.0005&lat=28.0005&layers=\(v)",
                    "/v1/identify?lon=120&lat=28&tolerance=\(v)", "/v1/identify?lon=120&lat=28&geometry=\(v)",
                    "/v1/ledger?layers=\(v)", "/v1/ledger?by=\(v)",
                    "/v1/audit?pairs=\(v)", "/v1/audit?pairs=farmland:\(v)", "/v1/audit?minArea=\(v)", "/v1/audit?format=\(v)",
                    "/v1/audit?where=\(v)", "/v1/audit?where=code%20\(v)",
                    "/v1/layers/\(v)/versions", "/v1/layers/\(v)/diff", "/v1/layers/farmland/diff?from=\(v)",
                    "/v1/layers/farmland/diff?to=\(v)",
                    "/collections/\(v)", "/collections/\(v)/queryables", "/collections/farmland/items/\(v)",
                    "/collections/farmland/items/P?crs=\(v)", "/collections?f=\(v)", "/?f=\(v)", "/conformance?f=\(v)", "/api?f=\(v)",
                    "/collections/farmland?f=\(v)", "/collections/farmland/queryables?f=\(v)",
                    "/tiles/\(v)/0/0/0.mvt", "/tiles/\(v).json", "/tiles/farmland,\(v)/0/0/0.mvt", "/tiles/4490/\(v).json",
                    "/styles/\(v).json", "/viewer/\(v)", "/static/maplibre/\(v)"
                ]
                for uri in uris {
                    let r = try await client.execute(uri: uri, method: .get)
                    requests += 1
                    Self.expectNotAServerError(r, uri)
                    if r.status == .ok, uri.hasPrefix("/v1/checks?projectCode") {
                        // A project code is only a value: it matches no check.
                        let list = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                        #expect(list?["total"] as? Int == 0, "\(uri) matched checks")
                    }
                    if r.status == .ok, uri.contains("identify"), uri.contains("layers=") {
                        let fc = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                        #expect((fc?["features"] as? [Any])?.isEmpty == true, "\(uri) identified features")
                    }
                }
                let rerun = try await client.execute(uri: "/v1/checks/\(v)/rerun", method: .post)
                requests += 1
                Self.expectCleanError(rerun, "rerun \(value)")
            }
            print("hostile: \(requests) injection requests on the GET routes and rerun")
            #expect(requests == Self.injections.count * 41)
        }
        #expect(try Self.fingerprint(store) == before, "no request changed the database")
    }

    /// Injection strings in every field of a check and in its query: the check is made (the
    /// strings are data, stored and returned verbatim), or refused with a 4xx; nothing else changes.
    @Test func sqlInjectionInEveryCheckField() async throws {
        let (app, store) = try Self.app()
        let before = try Self.fingerprint(store)
        let created = try await app.test(.router) { client -> Int in
            var created = 0
            func post(_ body: String, query: String = "", type: String = "application/json") async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/checks\(query)", method: .post, headers: [.contentType: type], body: ByteBuffer(string: body))
            }
            func string(_ s: String) -> String {
                String(decoding: try! JSONSerialization.data(withJSONObject: s, options: .fragmentsAllowed), as: UTF8.self)
            }
            for value in Self.injections {
                let s = string(value)
                // The project's code and name are data: stored and given back byte for byte.
                let named = try await post(#"{"projectCode": \#(s), "projectName": \#(s), "geometry": \#(siteOverP)}"#)
                #expect(named.status == .created, "projectCode/projectName \(value.debugDescription): \(named.status)")
                if named.status == .created {
                    created += 1
                    let result = try JSONSerialization.jsonObject(with: Data(buffer: named.body)) as? [String: Any]
                    #expect(result?["projectCode"] as? String == value && result?["projectName"] as? String == value)
                    let list = try await client.execute(uri: "/v1/checks?projectCode=\(Self.q(value))", method: .get)
                    let items =
                        (try JSONSerialization.jsonObject(with: Data(buffer: list.body)) as? [String: Any])?["items"] as? [[String: Any]]
                    #expect(
                        items?.count == 1 && items?.first?["id"] as? String == result?["id"] as? String, "the list finds exactly that check"
                    )
                }
                // Everything else is refused with a 4xx.
                let refused: [(String, String, String, String)] = [
                    ("geometry as a string", #"{"geometry": \#(s)}"#, "", "application/json"),
                    ("feature as a string", #"{"feature": \#(s)}"#, "", "application/json"),
                    ("txt", #"{"txt": \#(s)}"#, "", "application/json"),
                    (
                        "crs member",
                        #"{"crs": \#(s), "geometry": {"type": "Polygon", "coordinates": [[[40491234, 3150012], [40491334, 3150012], [40491334, 3150132], [40491234, 3150012]]]}}"#,
                        "", "application/json"
                    ),
                    ("geometry type", #"{"geometry": {"type": \#(s), "coordinates": []}}"#, "", "application/json"),
                    ("unknown key", #"{\#(s): 1, "geometry": \#(siteOverP)}"#, "", "application/json"),
                    (
                        "legacy crs name",
                        #"{"type": "Polygon", "crs": {"type": "name", "properties": {"name": \#(s)}}, "coordinates": [[[40491234, 3150012], [40491334, 3150012], [40491334, 3150132], [40491234, 3150012]]]}"#,
                        "", "application/geo+json"
                    ),
                    ("layers", siteOverP, "?layers=\(Self.q(value))", "application/json"),
                    (
                        "crs", "POLYGON((40491234 3150012, 40491334 3150012, 40491334 3150132, 40491234 3150012))", "?crs=\(Self.q(value))",
                        "text/plain"
                    ),
                    ("txt body", value, "", "text/plain")
                ]
                for (what, body, query, type) in refused {
                    let r = try await post(body, query: query, type: type)
                    if r.status == .created {
                        // Only a value that is also valid input may pass: "-1" is no layer or CRS, so none here.
                        Issue.record("\(what) = \(value.debugDescription) was accepted")
                        created += 1
                    } else {
                        Self.expectCleanError(r, "\(what) = \(value.debugDescription)")
                    }
                }
            }
            try await Self.expectStillServing(client)
            return created + 1
        }
        let after = try Self.fingerprint(store)
        #expect(after.dropLast() == before.dropLast(), "the schema and the layers are unchanged")
        #expect(after.last == "onemap_checks \(created)", "exactly the accepted checks were stored")
    }

    /// An empty `layers=` selects no layer: a site over farmland is answered "clear" with no layer
    /// checked, and stored as such. A client that builds the parameter from an empty selection gets
    /// a false all-clear. Open bug in CheckRoutes.create (outside this test's files): the answer
    /// should be a 4xx, or every layer. Found by Schemathesis (GET /v1/ledger?layers= and
    /// /v1/audit?pairs= likewise select nothing; they are in its baseline).
    @Test func emptyLayersParameterIsNotAnAllClear() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            let all = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: siteOverP))
            #expect(
                (try JSONSerialization.jsonObject(with: Data(buffer: all.body)) as? [String: Any])?["verdict"] as? String == "forbidden")
            let r = try await client.execute(
                uri: "/v1/checks?layers=", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: siteOverP))
            let verdict = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])?["verdict"] as? String
            // An empty list is refused: checking no layer would answer an all-clear.
            #expect(r.status == .badRequest, "\(r.status) verdict \(verdict ?? "none")")
            for uri in ["/v1/checks?layers=farmland,", "/v1/checks?layers=,"] {
                let e = try await client.execute(
                    uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: siteOverP))
                #expect(e.status == .badRequest, "\(uri)")
            }
            for uri in ["/v1/ledger?layers=", "/v1/audit?pairs="] {
                #expect(try await client.execute(uri: uri, method: .get).status == .badRequest, "\(uri)")
            }
        }
    }

    // MARK: Path traversal

    static let traversals = [
        "../Package.swift", "..%2FPackage.swift", "..%2fPackage.swift", "%2e%2e%2fPackage.swift", "%2E%2E/Package.swift",
        "..%252f..%252fPackage.swift", "%252e%252e%252fPackage.swift", "....//Package.swift", "..%5c..%5cPackage.swift",
        "%c0%ae%c0%ae%c0%afPackage.swift", "..%00.json", "%2fetc%2fpasswd", "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..;/Package.swift", "%u002e%u002e/Package.swift"
    ]

    /// The style, static, viewer and tile routes never serve a file outside their folder, however
    /// the path is encoded, and answer a 4xx JSON error.
    @Test func pathTraversalOnStyleAndStaticRoutes() async throws {
        let (app, _) = try Self.app()
        try await app.test(.live) { client in
            var requests = 0
            let prefixes = [
                "/styles/", "/static/maplibre/", "/viewer/", "/tiles/", "/tiles/4490/", "/collections/", "/v1/layers/", "/v1/checks/"
            ]
            for prefix in prefixes {
                for t in Self.traversals {
                    for uri in [prefix + t, prefix + t + ".json", prefix + "onemap/../../" + t, prefix + "x/" + t] {
                        let r = try await client.execute(uri: uri, method: .get)
                        requests += 1
                        let body = String(buffer: r.body)
                        #expect(
                            !body.contains("swift-tools-version") && !body.contains("root:x:0:0"), "\(uri) served a file outside its folder"
                        )
                        Self.expectCleanError(r, uri)
                    }
                }
            }
            print("hostile: \(requests) traversal requests")
            #expect(requests == 8 * Self.traversals.count * 4)
            // The real files are still served.
            let style = try await client.execute(uri: "/styles/onemap.json", method: .get)
            #expect(style.status == .ok)
            let viewer = try await client.execute(uri: "/viewer/app.js", method: .get)
            #expect(viewer.status == .ok)
            try await Self.expectStillServing(client)
        }
    }

    // MARK: Huge numbers

    /// Tile coordinates past the grid, past Int, negative or not numbers at all: a 4xx.
    @Test func hugeTileCoordinates() async throws {
        let (app, _) = try Self.app()
        try await app.test(.live) { client in
            let bad = [
                "/tiles/farmland/25/0/0.mvt", "/tiles/farmland/99/0/0.mvt", "/tiles/farmland/999999999/0/0.mvt",
                "/tiles/farmland/9999999999/0/0.mvt", "/tiles/farmland/18446744073709551616/0/0.mvt",
                "/tiles/farmland/0/1/0.mvt", "/tiles/farmland/0/0/1.mvt", "/tiles/farmland/1/2/0.mvt",
                "/tiles/farmland/24/16777216/0.mvt", "/tiles/farmland/24/0/16777216.mvt", "/tiles/farmland/24/999999999/999999999.mvt",
                "/tiles/farmland/-1/0/0.mvt", "/tiles/farmland/1/-1/0.mvt", "/tiles/farmland/1/0/-1.pbf", "/tiles/farmland/1e2/0/0.mvt",
                "/tiles/farmland/0x10/0/0.mvt", "/tiles/farmland/1.5/0/0.mvt", "/tiles/farmland/%EF%BC%91/0/0.mvt",
                "/tiles/farmland/%D9%A1/0/0.mvt",
                "/tiles/farmland/0/0/0.png", "/tiles/farmland/0/0/0", "/tiles/farmland/0/0/0/0.mvt",
                "/tiles/4490/farmland/0/2/0.mvt", "/tiles/4490/farmland/0/0/1.mvt", "/tiles/4490/farmland/30/0/0.mvt",
                "/tiles/4490/farmland/21/4194304/0.mvt", "/tiles/onemap/99/0/0.mvt", "/tiles/farmland,farmland/99/1/1.pbf",
                "/tiles/onemap/2147483647/2147483647/2147483647.mvt", "/tiles/onemap/0/9223372036854775807/0.mvt"
            ]
            for uri in bad { Self.expectCleanError(try await client.execute(uri: uri, method: .get), uri) }
            // The largest tiles of the grids are fine, and empty.
            for uri in [
                "/tiles/farmland/24/16777215/16777215.mvt", "/tiles/4490/farmland/24/16777215/8388607.mvt", "/tiles/farmland/0/0/0.mvt"
            ] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .ok || r.status == .noContent, "\(uri): \(r.status)")
            }
            // Huge numbers elsewhere.
            let numbers = [
                "/v1/identify?lon=1e308&lat=28", "/v1/identify?lon=120&lat=-1e309", "/v1/identify?lon=NaN&lat=NaN",
                "/v1/identify?lon=120&lat=28&tolerance=1e308", "/v1/identify?lon=120&lat=28&tolerance=-1",
                "/v1/checks?limit=99999999999999999999", "/v1/checks?offset=99999999999999999999", "/v1/checks?limit=-1",
                "/v1/audit?minArea=1e999", "/v1/audit?minArea=-1", "/v1/layers/farmland/diff?from=99999999999999999999",
                "/collections/farmland/items?limit=99999999999999999999", "/collections/farmland/items?offset=99999999999999999999",
                "/collections/farmland/items?bbox=-1e308,-1e308,1e308,1e308", "/collections/farmland/items?bbox=1e999,0,0,0",
                "/collections/farmland/items?filter=BSM%3D1e999"
            ]
            for uri in numbers { Self.expectNotAServerError(try await client.execute(uri: uri, method: .get), uri) }
            print("hostile: \(bad.count + 3 + numbers.count) huge-number requests")
            try await Self.expectStillServing(client)
        }
    }

    // MARK: Deep nesting and huge bodies

    /// JSON nested 100,000 levels deep, in every place a check reads JSON: a 400, never a crash
    /// (a recursive reader would overflow the stack).
    @Test func deeplyNestedJSON() async throws {
        let (app, store) = try Self.app(limits: .init(maxBodyBytes: 16 << 20))
        let before = try Self.fingerprint(store)
        try await app.test(.live) { client in
            let n = 100_000
            let bodies: [(String, String)] = [
                ("arrays", String(repeating: "[", count: n) + String(repeating: "]", count: n)),
                ("unclosed arrays", String(repeating: "[", count: n)),
                ("objects", String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)),
                (
                    "coordinates",
                    #"{"type": "Polygon", "coordinates": "# + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}"
                ),
                ("geometry", #"{"geometry": "# + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}"),
                (
                    "properties",
                    #"{"type": "Feature", "properties": "# + String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)
                        + #", "geometry": \#(siteOverP)}"#
                ),
                (
                    "collections",
                    String(repeating: #"{"type": "GeometryCollection", "geometries": ["#, count: 10_000)
                        + String(repeating: "]}", count: 10_000)
                )
            ]
            for (what, body) in bodies {
                let r = try await client.execute(
                    uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
                let detail = Self.expectCleanError(r, "nested \(what)")
                #expect(r.status == .badRequest || r.status == .unprocessableContent, "nested \(what): \(r.status) \(detail)")
            }
            // Deep nesting in WKT and CQL2 too.
            let wkt =
                String(repeating: "GEOMETRYCOLLECTION(", count: n) + "POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))"
                + String(repeating: ")", count: n)
            let r = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: wkt))
            Self.expectCleanError(r, "nested WKT")
            let filter = Self.q(String(repeating: "(", count: 10_000) + "BSM = 'P'" + String(repeating: ")", count: 10_000))
            Self.expectCleanError(
                try await client.execute(uri: "/collections/farmland/items?filter=\(filter)", method: .get), "nested CQL2")
            try await Self.expectStillServing(client)
        }
        #expect(try Self.fingerprint(store).dropLast() == before.dropLast())
    }

    /// A body past the limit is a 413 before it is parsed; a small body that expands into a huge
    /// geometry is a 413 at the vertex limit. Nothing is stored.
    @Test func zipBombLikeGeoJSON() async throws {
        let (app, store) = try Self.app(limits: .init(maxBodyBytes: 1 << 20, maxSiteVertices: 20_000))
        // Router mode: the body limit is enforced where the route collects the body, the same
        // in both modes, and the live client's fixed 20 s read timeout was once too short for a
        // 20 MiB upload to a debug build on a machine busy with the other suites.
        try await app.test(.router) { client in
            // 3 MiB of a valid-looking GeoJSON: one ring of 100,000 vertices.
            var ring = "[120,28]"
            ring.reserveCapacity(3 << 20)
            for i in 0..<100_000 { ring += ",[\(120 + Double(i % 1000) * 1e-6),\(28 + Double(i / 1000) * 1e-6)]" }
            ring += ",[120,28]"
            let huge = #"{"type": "Polygon", "coordinates": [[\#(ring)]]}"#
            #expect(huge.utf8.count > 1 << 20)
            let r = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/geo+json"], body: ByteBuffer(string: huge))
            #expect(r.status == .contentTooLarge, "\(r.status)")
            Self.expectCleanError(r, "a body past the limit")
            // 20 MiB of whitespace before a valid site.
            let padded = String(repeating: " ", count: 20 << 20) + siteOverP
            let p = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: padded))
            #expect(p.status == .contentTooLarge, "\(p.status)")
            Self.expectCleanError(p, "20 MiB of padding")
            // Under the byte limit, over the vertex limit: 30,000 features of 4 vertices each in 0.9 MiB.
            let square =
                #"{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[[[120,28],[120.001,28],[120.001,28.001],[120,28]]]}}"#
            let many = #"{"type":"FeatureCollection","features":["# + Array(repeating: square, count: 7_000).joined(separator: ",") + "]}"
            #expect(many.utf8.count < 1 << 20)
            let m = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/geo+json"], body: ByteBuffer(string: many))
            #expect(m.status == .contentTooLarge, "\(m.status)")
            let detail = Self.expectCleanError(m, "28,000 vertices")
            #expect(detail.contains("20000"), "the error names the limit: \(detail)")
            try await Self.expectStillServing(client)
        }
        #expect(try Self.fingerprint(store).last == "onemap_checks 1", "only the real check was stored")
    }

    /// A 部标 TXT of two million points (70 MB): a 413 at the body limit over HTTP, and with a body
    /// limit large enough to take it, a 413 at the vertex limit that names it and the line (in
    /// router mode: a debug build takes longer than the live client's 20 s to upload and read it
    /// on a busy machine). As raw text and in JSON.
    @Test func surveyTXTWithMillionsOfPoints() async throws {
        let points = 2_000_000
        let txt: [UInt8] = {
            var txt = Array("[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=40\n[地块坐标]\n2000001,1.0,1,巨型地块,面,,工业用地,,@\n".utf8)
            txt.reserveCapacity(points * 32)
            for i in 0..<points {
                txt += Array("J\(i),1,\(3_150_000 + i % 1000).000,\(40_490_000 + i / 1000).000\n".utf8)
            }
            txt += Array("J0,1,3150000.000,40490000.000\n".utf8)
            return txt
        }()
        #expect(txt.count > 50_000_000)
        for (limits, expected) in [
            (ServerConfiguration.Limits(), "body"), (ServerConfiguration.Limits(maxBodyBytes: 128 << 20), "vertices")
        ] {
            let (app, store) = try Self.app(limits: limits)
            // Router mode for both: the live client's 20 s read timeout is shorter than a loaded
            // machine takes to push 70 MB through a debug build (the 413 itself is the same).
            try await app.test(.router) { client in
                let r = try await client.execute(
                    uri: "/v1/checks", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(bytes: txt))
                #expect(r.status == .contentTooLarge, "\(expected): \(r.status)")
                let detail = Self.expectCleanError(r, "two million points, limit on the \(expected)")
                if expected == "vertices" {
                    #expect(detail.contains("200000") && detail.contains("line"), "the error names the limit and the line: \(detail)")
                }
                try await Self.expectStillServing(client)
            }
            #expect(try Self.fingerprint(store).last == "onemap_checks 1", "only the real check was stored")
        }
        // In the JSON form, under a large body limit: the same 413.
        let (app, _) = try Self.app(limits: .init(maxBodyBytes: 128 << 20))
        try await app.test(.router) { client in
            let text = String(decoding: txt, as: UTF8.self)
            let body = try JSONSerialization.data(withJSONObject: ["txt": text])
            let r = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
            #expect(r.status == .contentTooLarge, "\(r.status)")
            Self.expectCleanError(r, "two million points in the txt member")
            try await Self.expectStillServing(client)
        }
    }
}
