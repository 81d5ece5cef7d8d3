import Conflicts
import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import Identity
import LayerStore
import OneMapServer
import Testing
import VectorIO

/// Two counties side by side, 遂昌 (331123) west of 青田 (331121), with a public farmland
/// parcel in each and a restricted layer with a feature in each and one across the county
/// line, so each route can be asked by callers of every kind and every scope.
func scopedStore() throws -> Store {
    let dir = NSTemporaryDirectory() + "onemap-scope-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Geometry {
        .polygon(Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]]))
    }
    func write(_ name: String, _ fields: [FieldDefinition], _ rows: [(Geometry, [AttributeValue])]) throws -> String {
        let path = "\(dir)/\(name).geojson"
        let w = try VectorWriter(path: path, format: .geoJSON, layerName: name, crs: "EPSG:4490", geometryType: "Polygon", fields: fields)
        for (g, a) in rows { try w.write(geometry: g, attributes: a) }
        try w.close()
        return path
    }
    let text = { (n: String) in FieldDefinition(name: n, type: .text) }
    let admin = try write(
        "admin", [text("XZQDM"), text("XZQMC"), text("level")],
        [
            (square(119.9, 27.9, 120.1, 28.1), [.text("331123"), .text("遂昌县"), .text("county")]),
            (square(120.1, 27.9, 120.3, 28.1), [.text("331121"), .text("青田县"), .text("county")])
        ])
    let farmland = try write(
        "farmland", [text("BSM")],
        [(square(120.0, 28.0, 120.001, 28.001), [.text("F-SC")]), (square(120.2, 28.0, 120.201, 28.001), [.text("F-QT")])])
    let secret = try write(
        "secret", [text("BSM")],
        [
            (square(120.0, 28.0, 120.002, 28.002), [.text("S-SC")]), (square(120.2, 28.0, 120.202, 28.002), [.text("S-QT")]),
            (square(120.099, 28.0, 120.101, 28.002), [.text("S-X")])
        ])
    let store = try Store(path: dir + "/onemap.sqlite")
    let importer = LayerImporter(store: store)
    _ = try importer.load(LayerSpec(name: "admin", title: "行政区划", kind: .admin, source: admin, idField: "XZQDM", labelField: "XZQMC"))
    _ = try importer.load(
        LayerSpec(name: "farmland", title: "永久基本农田", kind: .farmland, source: farmland, idField: "BSM", rule: Rule(severity: .forbidden)))
    _ = try importer.load(
        LayerSpec(
            name: "secret", title: "涉密图层", kind: .other, source: secret, idField: "BSM", access: .restricted,
            rule: Rule(severity: .restricted)))
    return store
}

/// A site of about 1 ha over a county's farmland parcel.
func site(atX x: Double) -> String {
    #"{"type":"Polygon","coordinates":[[[\#(x - 0.0005),27.9995],[\#(x + 0.0015),27.9995],[\#(x + 0.0015),28.0015],[\#(x - 0.0005),28.0015],[\#(x - 0.0005),27.9995]]]}"#
}

struct SignInRouteTests {
    let fixture: SignInFixture
    var store: Store { fixture.store }
    var idp: TestIssuer { fixture.idp }

    init() async throws { fixture = try await SignInFixture() }

    func app() -> some ApplicationProtocol { fixture.app() }

    static func bearer(_ token: String?) -> HTTPFields { token.map { [.authorization: "Bearer \($0)"] } ?? [:] }

    func json(_ r: TestResponse) throws -> [String: Any] { try SignInFixture.json(r) }

    /// The viewer's sign-in settings, public; 404 where the server has none.
    @Test func theViewerLearnsWhereToSignIn() async throws {
        var configuration = idp.configuration()
        configuration.viewerLogin = ViewerLogin(
            clientID: "onemap-viewer", authorizationEndpoint: "https://sso.example/auth", tokenEndpoint: "https://sso.example/token")
        var server = ServerConfiguration()
        server.tokens = try await TokenVerifier.make(configuration)
        try await buildApplication(store: store, configuration: server).test(.router) { client in
            let r = try await client.execute(uri: "/v1/auth/login", method: .get)
            #expect(r.status == .ok)
            let o = try json(r)
            #expect(o["clientId"] as? String == "onemap-viewer" && o["issuer"] as? String == TestIssuer.issuer)
            #expect(o["authorizationEndpoint"] as? String == "https://sso.example/auth" && o["scope"] as? String == "openid profile")
            #expect(o["token"] as? String == "access_token" && o["endSessionEndpoint"] == nil && o["available"] as? Bool == true)
        }
        try await app().test(.router) { client in
            let r = try await client.execute(uri: "/v1/auth/login", method: .get)
            #expect(r.status == .ok && String(buffer: r.body).contains("no viewer_login"))
            #expect(try json(r)["available"] as? Bool == false)
        }
        try await buildApplication(store: store, configuration: ServerConfiguration()).test(.router) { client in
            let r = try await client.execute(uri: "/v1/auth/login", method: .get)
            #expect(r.status == .ok && String(buffer: r.body).contains("takes no tokens"))
        }
    }

    /// Every route a caller reaches, for every kind of caller: the status expected.
    @Test func everyRouteForEveryKindOfCaller() async throws {
        let now = Date()
        let callers: [(String, String?)] = [
            ("anonymous", nil),
            ("expired", try await idp.token(roles: ["om-admin"], now: now.addingTimeInterval(-7200))),
            ("wrong issuer", try await idp.token(roles: ["om-admin"], extra: ["iss": "https://other.example"])),
            ("alg none", try idp.forged(alg: "none") { _ in Data() }),
            ("viewer", try await idp.token(roles: ["om-viewer"])),
            ("planner 331123", try await idp.token(sub: "p-1", roles: ["om-planner"], xzqdm: ["331123"])),
            ("approver", try await idp.token(sub: "a-1", roles: ["om-approver"])),
            ("admin", try await idp.token(sub: "root", roles: ["om-admin"])),
            ("no role", try await idp.token(sub: "n-1", roles: ["unmapped"]))
        ]
        // route, method, body; statuses in the order of `callers`.
        let routes: [(String, HTTPRequest.Method, String?, [HTTPResponse.Status])] = [
            ("/v1/layers", .get, nil, [.ok, .unauthorized, .unauthorized, .unauthorized, .ok, .ok, .ok, .ok, .ok]),
            (
                "/collections/secret/items", .get, nil,
                [.notFound, .unauthorized, .unauthorized, .unauthorized, .ok, .ok, .ok, .ok, .notFound]
            ),
            ("/collections/farmland/items", .get, nil, [.ok, .unauthorized, .unauthorized, .unauthorized, .ok, .ok, .ok, .ok, .ok]),
            ("/v1/checks", .get, nil, [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .ok, .ok, .ok, .ok, .forbidden]),
            (
                "/v1/checks", .post, site(atX: 120.0),
                [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .forbidden, .created, .created, .created, .forbidden]
            ),
            ("/v1/me", .get, nil, [.ok, .unauthorized, .unauthorized, .unauthorized, .ok, .ok, .ok, .ok, .ok]),
            (
                "/v1/access", .get, nil,
                [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .forbidden, .forbidden, .forbidden, .ok, .forbidden]
            ),
            (
                "/v1/keys", .get, nil,
                [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .forbidden, .forbidden, .forbidden, .ok, .forbidden]
            )
        ]
        try await app().test(.router) { client in
            for (uri, method, body, statuses) in routes {
                for ((who, token), expected) in zip(callers, statuses) {
                    let r = try await client.execute(
                        uri: uri, method: method, headers: Self.bearer(token), body: body.map { ByteBuffer(string: $0) })
                    #expect(r.status == expected, "\(method) \(uri) as \(who): \(String(buffer: r.body).prefix(200))")
                    if r.status == .unauthorized, token != nil {
                        let challenge = r.headers[.wwwAuthenticate] ?? ""
                        #expect(challenge.contains(#"error="invalid_token""#) && challenge.contains("error_description="), "\(who)")
                    }
                }
            }
        }
    }

    @Test func refusalsSayWhichCheckFailed() async throws {
        try await app().test(.router) { client in
            let expired = try await idp.token(now: Date().addingTimeInterval(-7200))
            let r = try await client.execute(uri: "/v1/layers", method: .get, headers: Self.bearer(expired))
            #expect(r.status == .unauthorized)
            #expect(r.headers[.wwwAuthenticate]?.contains("error_description=\"the token expired at") == true)
            #expect((try json(r)["detail"] as? String)?.contains("expired") == true)
            let audience = try await idp.token(extra: ["aud": "another-app"])
            let a = try await client.execute(uri: "/v1/layers", method: .get, headers: Self.bearer(audience))
            #expect((try json(a)["detail"] as? String)?.contains("aud") == true)
        }
    }

    /// A scoped planner checks in its county, is refused outside it with the reason, and lists
    /// and reads only its own records (browsing: `ScopedBrowsingTests`).
    @Test func aScopedCallerStaysInItsScope() async throws {
        let suichang = try await idp.token(sub: "p-1", name: "遂昌规划", roles: ["om-planner"], xzqdm: ["331123"])
        let city = try await idp.token(sub: "a-1", roles: ["om-approver"])
        try await app().test(.router) { client in
            func post(_ body: String, _ token: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/checks", method: .post, headers: Self.bearer(token), body: ByteBuffer(string: body))
            }
            let inside = try await post(site(atX: 120.0), suichang)
            #expect(inside.status == .created)
            let mine = try #require(try json(inside)["id"] as? String)
            // The check reads every layer, restricted ones too: a planner must see every conflict in its county.
            let layers = (try json(inside)["layers"] as? [[String: Any]] ?? []).compactMap { $0["layer"] as? String }
            #expect(layers.contains("secret") && layers.contains("farmland"))

            let outside = try await post(site(atX: 120.2), suichang)
            #expect(outside.status == .forbidden)
            let why = try json(outside)["detail"] as? String ?? ""
            #expect(why.contains("outside the caller's scope 331123") && why.contains("青田县 331121"), "\(why)")
            // Straddling the county line: refused too, naming the share outside.
            let straddling = try await post(site(atX: 120.0995), suichang)
            #expect(straddling.status == .forbidden)

            let theirs = try #require(try json(try await post(site(atX: 120.2), city))["id"] as? String)
            let list = try json(try await client.execute(uri: "/v1/checks", method: .get, headers: Self.bearer(suichang)))
            #expect((list["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [mine])
            #expect(list["total"] as? Int == 1)
            #expect(try await client.execute(uri: "/v1/checks/\(mine)", method: .get, headers: Self.bearer(suichang)).status == .ok)
            for path in ["", "/report", "/geojson"] {
                let r = try await client.execute(uri: "/v1/checks/\(theirs)\(path)", method: .get, headers: Self.bearer(suichang))
                #expect(r.status == .notFound, "\(path)")
            }
            // The unscoped approver lists both.
            let all = try json(try await client.execute(uri: "/v1/checks", method: .get, headers: Self.bearer(city)))
            #expect(all["total"] as? Int == 2)
        }
    }

    /// The record names the person who signed in (全留痕).
    @Test func recordsNameThePersonSignedIn() async throws {
        let token = try await idp.token(sub: "u-42", name: "李四", roles: ["om-planner"])
        try await app().test(.router) { client in
            let r = try await client.execute(
                uri: "/v1/checks", method: .post, headers: Self.bearer(token), body: ByteBuffer(string: site(atX: 120.0)))
            #expect(r.status == .created)
            let list = try json(try await client.execute(uri: "/v1/checks", method: .get, headers: Self.bearer(token)))
            #expect((list["items"] as? [[String: Any]])?.first?["keyName"] as? String == "sso:李四 (u-42)")
            // Its report prints the record's link on the chain, for a paper copy to be verified.
            let id = try #require(try json(r)["id"] as? String)
            let hash = try #require(try store.snapshot { try RecordChain.hash(of: id, $0) })
            let report = try await client.execute(uri: "/v1/checks/\(id)/report", method: .get, headers: Self.bearer(token))
            #expect(String(buffer: report.body).contains(hash))
        }
    }
}

/// API keys for machine clients take a scope too (`keys create --scope`).
struct ScopedKeyTests {
    @Test func aScopedKeyIsHeldToItsScope() async throws {
        let store = try scopedStore()
        let ring = KeyRing(store: store)
        let (key, secret) = try ring.create(role: .approver, name: "遂昌审批系统", scope: try DataScope(text: "331123"))
        #expect(key.scope?.codes == ["331123"])
        #expect(try ring.list().first?.scope?.codes == ["331123"])
        #expect(throws: DataScope.InvalidCode.self) { try DataScope(text: "33112x") }
        try await buildApplication(store: store, configuration: ServerConfiguration()).test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(secret)"]
            let inside = try await client.execute(
                uri: "/v1/checks", method: .post, headers: headers, body: ByteBuffer(string: site(atX: 120.0)))
            #expect(inside.status == .created)
            let outside = try await client.execute(
                uri: "/v1/checks", method: .post, headers: headers, body: ByteBuffer(string: site(atX: 120.2)))
            #expect(outside.status == .forbidden)
            #expect(String(buffer: outside.body).contains("青田县 331121"))
            // Keys made over HTTP take a scope, and refuse a malformed one.
            let admin = try ring.create(role: .admin, name: nil).secret
            let made = try await client.execute(
                uri: "/v1/keys", method: .post, headers: [.authorization: "Bearer \(admin)"],
                body: ByteBuffer(string: #"{"role": "viewer", "scope": ["331123", "331121101"]}"#))
            #expect(made.status == .created && String(buffer: made.body).contains(#""scope":["331121101","331123"]"#))
            let bad = try await client.execute(
                uri: "/v1/keys", method: .post, headers: [.authorization: "Bearer \(admin)"],
                body: ByteBuffer(string: #"{"role": "viewer", "scope": "33"}"#))
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("'33' is not an administrative code"))
        }
    }
}
