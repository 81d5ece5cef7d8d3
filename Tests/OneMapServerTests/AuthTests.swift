import Foundation
import GRDB
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing
import VectorIO

/// A store with the public farmland of `farmlandStore()` and a restricted layer (涉密) over
/// the same place, so every route can be asked about both.
func storeWithRestrictedLayer() throws -> Store {
    let store = try farmlandStore()
    let dir = (store.path as NSString).deletingLastPathComponent
    let path = dir + "/secret.geojson"
    let w = try VectorWriter(
        path: path, format: .geoJSON, layerName: "secret", crs: "EPSG:4490", geometryType: "Polygon",
        fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "MC", type: .text)])
    try w.write(
        geometry: .polygon(
            Polygon([
                [
                    Coordinate(120, 28), Coordinate(120.002, 28), Coordinate(120.002, 28.002),
                    Coordinate(120, 28.002), Coordinate(120, 28)
                ]
            ])), attributes: [.text("S1"), .text("涉密管线走廊")])
    try w.close()
    _ = try LayerImporter(store: store).load(
        LayerSpec(
            name: "secret", title: "涉密图层", kind: .other, source: path,
            idField: "BSM", access: .restricted, rule: Rule(severity: .restricted)))
    return store
}

struct AuthTests {
    let store: Store
    let keys: KeyRing
    let viewer: String, approver: String, admin: String

    init() throws {
        store = try storeWithRestrictedLayer()
        keys = KeyRing(store: store)
        viewer = try keys.create(role: .viewer, name: "规划查询").secret
        approver = try keys.create(role: .approver, name: "审批系统").secret
        admin = try keys.create(role: .admin, name: nil).secret
    }

    func app(open: Bool = false) -> some ApplicationProtocol {
        buildApplication(store: store, configuration: ServerConfiguration(open: open))
    }

    static func bearer(_ key: String?) -> HTTPFields {
        guard let key else { return [:] }
        return [.authorization: "Bearer \(key)"]
    }

    func json(_ r: TestResponse) throws -> Any { try JSONSerialization.jsonObject(with: Data(buffer: r.body)) }

    @Test func secretsAreStoredOnlyAsHashes() throws {
        let all = try keys.list()
        #expect(all.map(\.name) == ["规划查询", "审批系统", "admin-3"])
        #expect(all.map(\.role) == [.viewer, .approver, .admin])
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: store.path + "-wal"))) ?? Data()
        let raw = try Data(contentsOf: URL(fileURLWithPath: store.path)) + wal
        for secret in [viewer, approver, admin] {
            #expect(secret.hasPrefix("om_") && secret.count == 46)
            #expect(raw.range(of: Data(secret.utf8)) == nil, "the secret itself must not be in the database file")
            #expect(raw.range(of: Data(secret.dropFirst(3).utf8)) == nil)
        }
        #expect(try keys.lookup(secret: approver) == .valid(all[1]))
        #expect(try keys.lookup(secret: approver + "x") == .unknown)
        #expect(try keys.lookup(secret: "Bearer") == .unknown)
        // Names stay taken, and bad names are refused with the reason.
        #expect(throws: StoreError.self) { try keys.create(role: .viewer, name: "审批系统") }
        #expect(throws: StoreError.self) { try keys.create(role: .viewer, name: "") }
        #expect(throws: StoreError.self) { try keys.create(role: .viewer, name: "a\nb") }
    }

    @Test func revokedKeysStopAtOnce() async throws {
        try await app().test(.router) { client in
            let before = try await client.execute(uri: "/v1/layers", method: .get, headers: Self.bearer(viewer))
            #expect(before.status == .ok)
            let revoked = try keys.revoke("规划查询")
            #expect(revoked.revokedAt != nil)
            #expect(throws: StoreError.self) { try keys.revoke("规划查询") }
            let after = try await client.execute(uri: "/v1/layers", method: .get, headers: Self.bearer(viewer))
            #expect(after.status == .unauthorized)
            #expect(after.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            let body = try #require(try json(after) as? [String: Any])
            #expect(body["code"] as? String == "Unauthorized" && (body["detail"] as? String)?.contains("was revoked") == true)
            #expect((body["detail"] as? String)?.contains("规划查询") == true)
        }
    }

    /// Keys are remembered between requests (a map sends dozens a second), but a key revoked
    /// by another process (`onemap keys revoke` beside the server) stops within the store's
    /// recheck time, and one revoked or made through the server at once.
    @Test func rememberedKeysFollowRevocationsFromAnotherProcess() async throws {
        #expect(try keys.lookup(secret: approver) == .valid(try keys.list()[1]))
        #expect(try keys.lookup(secret: approver) == .valid(try keys.list()[1]))
        // Another process: its own connections to the same file.
        let cli = KeyRing(store: try Store(path: store.path))
        let revoked = try cli.revoke("审批系统")
        var seen = try keys.lookup(secret: approver)
        for _ in 0..<500 where seen != .revoked(revoked) {
            try await Task.sleep(nanoseconds: 10_000_000)
            seen = try keys.lookup(secret: approver)
        }
        #expect(seen == .revoked(revoked), "a key revoked by another process was still accepted after 5 s")
        let (made, secret) = try cli.create(role: .viewer, name: "新钥匙")
        seen = try keys.lookup(secret: secret)
        for _ in 0..<500 where seen != .valid(made) {
            try await Task.sleep(nanoseconds: 10_000_000)
            seen = try keys.lookup(secret: secret)
        }
        #expect(seen == .valid(made))
        // Through this store: at once, with no wait at all.
        #expect(try keys.lookup(secret: viewer) == .valid(try keys.list()[0]))
        // What a request's own thread is told without reading (nil: read): never the key as it was.
        #expect([nil, .valid(try keys.list()[0])].contains(keys.remembered(secret: viewer)))
        let gone = try keys.revoke("规划查询")
        #expect(keys.remembered(secret: viewer) == nil)
        #expect(try keys.lookup(secret: viewer) == .revoked(gone))
        #expect([nil, .revoked(gone)].contains(keys.remembered(secret: viewer)))
        #expect(keys.remembered(secret: "om_unknown") == nil && keys.remembered(secret: "eyJ.token") == nil)
    }

    @Test func badCredentialsAreRefusedNotIgnored() async throws {
        try await app().test(.router) { client in
            for header in ["Bearer om_notakey", "Basic dXNlcjpwYXNz", "Bearer", "om_x", "Bearer \(approver)x"] {
                let r = try await client.execute(uri: "/collections", method: .get, headers: [.authorization: header])
                #expect(r.status == .unauthorized, "\(header)")
                let body = try #require(try json(r) as? [String: Any])
                #expect(r.headers[.contentType] == "application/problem+json", "\(header)")
                #expect(body["code"] as? String == "Unauthorized" && body["status"] as? Int == 401 && body["detail"] is String)
            }
            // Lower-case scheme is accepted (RFC 7235: schemes are case-insensitive).
            let ok = try await client.execute(uri: "/collections", method: .get, headers: [.authorization: "bearer \(viewer)"])
            #expect(ok.status == .ok)
        }
    }

    @Test func postingChecksNeedsAPlannerAndRerunningAnApprover() async throws {
        try await app().test(.router) { client in
            func post(_ key: String?) async throws -> TestResponse {
                try await client.execute(uri: "/v1/checks", method: .post, headers: Self.bearer(key), body: ByteBuffer(string: siteOverP))
            }
            #expect(try await post(nil).status == .unauthorized)
            let low = try await post(viewer)
            #expect(low.status == .forbidden)
            #expect(
                (try json(low) as? [String: Any])?["detail"] as? String
                    == "posting a check needs a planner key; key '规划查询' is a viewer key")
            let made = try await post(approver)
            #expect(made.status == .created)
            let id = try #require((try json(made) as? [String: Any])?["id"] as? String)
            #expect(try await post(admin).status == .created)
            // A planner posts checks (预审) but does not rerun recorded ones (the approval's step).
            let planner = try keys.create(role: .planner, name: "规划编制").secret
            #expect(try await post(planner).status == .created)
            let rerun = try await client.execute(uri: "/v1/checks/\(id)/rerun", method: .post, headers: Self.bearer(planner))
            #expect(rerun.status == .forbidden)
            #expect(
                try await client.execute(uri: "/v1/checks/\(id)/rerun", method: .post, headers: Self.bearer(approver)).status == .created)
            // Reading records needs a key too: they name restricted layers' features.
            #expect(try await client.execute(uri: "/v1/checks/\(id)", method: .get).status == .unauthorized)
            let read = try await client.execute(uri: "/v1/checks/\(id)", method: .get, headers: Self.bearer(viewer))
            #expect(read.status == .ok && read.body == made.body)
            // Every record names the key that made it.
            let list = try await client.execute(uri: "/v1/checks", method: .get, headers: Self.bearer(viewer))
            let items = try #require((try json(list) as? [String: Any])?["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { $0["keyName"] as? String }) == ["审批系统", "admin-3", "规划编制"])
            let stored = try await store.pool.read { db in
                try String.fetchOne(db, sql: "SELECT key_name FROM onemap_checks WHERE id = ?", arguments: [id])
            }
            #expect(stored == "审批系统")
            // The check itself sees the restricted layer: an approver must know of every conflict.
            let layers = try #require((try json(made) as? [String: Any])?["layers"] as? [[String: Any]])
            #expect(layers.contains { $0["layer"] as? String == "secret" && $0["conflict"] as? Bool == true })
        }
    }

    @Test func openServerRecordsAnonymousChecks() async throws {
        try await app(open: true).test(.router) { client in
            let made = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
            #expect(made.status == .created)
            let list = try await client.execute(uri: "/v1/checks", method: .get)
            let items = try #require((try json(list) as? [String: Any])?["items"] as? [[String: Any]])
            #expect(items.first?["keyName"] as? String == "anonymous (--open)")
            // --open opens checks, not restricted layers.
            let layers = try await client.execute(uri: "/v1/layers", method: .get)
            #expect((try json(layers) as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["farmland"])
        }
    }

    /// Without a viewer key a restricted layer is absent everywhere and 404 when named; with
    /// one it is everywhere. The same requests, two callers.
    @Test func restrictedLayerIsInvisibleWithoutAViewerKey() async throws {
        try await app().test(.router) { client in
            for (key, sees) in [(nil, false), (viewer, true), (approver, true), (admin, true)] as [(String?, Bool)] {
                let h = Self.bearer(key)
                let list = try await client.execute(uri: "/v1/layers", method: .get, headers: h)
                let names = try #require(try json(list) as? [[String: Any]]).compactMap { $0["name"] as? String }
                #expect(names == (sees ? ["farmland", "secret"] : ["farmland"]))

                let collections = try await client.execute(uri: "/collections", method: .get, headers: h)
                let ids = try #require((try json(collections) as? [String: Any])?["collections"] as? [[String: Any]]).compactMap {
                    $0["id"] as? String
                }
                #expect(ids == (sees ? ["farmland", "secret"] : ["farmland"]))

                let tileJSON = try await client.execute(uri: "/tiles/onemap.json", method: .get, headers: h)
                let vector = try #require((try json(tileJSON) as? [String: Any])?["vector_layers"] as? [[String: Any]]).compactMap {
                    $0["id"] as? String
                }
                #expect(vector == (sees ? ["farmland", "secret"] : ["farmland"]))
                #expect(tileJSON.headers[.cacheControl] == (key == nil ? "no-cache" : "private, no-cache"))

                // z16 tile over the data: the composite holds the layer only for a viewer.
                let tile = try await client.execute(uri: "/tiles/onemap/16/54613/27454.mvt", method: .get, headers: h)
                #expect(tile.status == .ok)
                #expect(String(decoding: tile.body.readableBytesView, as: UTF8.self).contains("secret") == sees)

                let direct = [
                    "/tiles/secret/16/54613/27454.mvt", "/tiles/secret.json", "/collections/secret", "/collections/secret/items",
                    "/collections/secret/items/S1", "/v1/layers/secret/versions"
                ]
                for path in direct {
                    let r = try await client.execute(uri: path, method: .get, headers: h)
                    if sees {
                        #expect(r.status == .ok || r.status == .noContent, "\(path)")
                    } else {
                        #expect(r.status == .notFound, "\(path)")
                    }
                    if !sees { #expect(!String(decoding: r.body.readableBytesView, as: UTF8.self).contains("涉密"), "\(path)") }
                }

                let here = try await client.execute(uri: "/v1/identify?lon=120.0005&lat=28.0005&geometry=false", method: .get, headers: h)
                let hitLayers = try #require((try json(here) as? [String: Any])?["features"] as? [[String: Any]])
                    .compactMap { ($0["properties"] as? [String: Any])?["layer"] as? String ?? $0["layer"] as? String }
                #expect(hitLayers.contains("secret") == sees, "\(hitLayers)")

                let audit = try await client.execute(uri: "/v1/audit?pairs=farmland:secret", method: .get, headers: h)
                #expect(audit.status == (sees ? .ok : .notFound), "audit for \(key ?? "anonymous")")
            }
        }
    }

    @Test func adminsManageKeysOverHTTP() async throws {
        try await app().test(.router) { client in
            #expect(try await client.execute(uri: "/v1/keys", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/keys", method: .get, headers: Self.bearer(approver)).status == .forbidden)
            let list = try await client.execute(uri: "/v1/keys", method: .get, headers: Self.bearer(admin))
            let keysListed = try #require(try json(list) as? [[String: Any]])
            #expect(keysListed.count == 3 && keysListed.allSatisfy { $0["secret"] == nil })
            let made = try await client.execute(
                uri: "/v1/keys", method: .post, headers: Self.bearer(admin),
                body: ByteBuffer(string: #"{"role": "approver", "name": "第二审批系统"}"#))
            #expect(made.status == .created)
            #expect((try json(made) as? [String: Any])?["id"] is Int, "ids are integers, as the OpenAPI document says")
            let secret = try #require((try json(made) as? [String: Any])?["secret"] as? String)
            // A taken name is a conflict (409); a name out of form is unprocessable (422).
            let again = try await client.execute(
                uri: "/v1/keys", method: .post, headers: Self.bearer(admin),
                body: ByteBuffer(string: #"{"role": "viewer", "name": "第二审批系统"}"#))
            #expect(again.status == .conflict)
            let blank = try await client.execute(
                uri: "/v1/keys", method: .post, headers: Self.bearer(admin),
                body: ByteBuffer(string: #"{"role": "viewer", "name": "a\tb"}"#))
            #expect(blank.status == .unprocessableContent)
            #expect(
                try await client.execute(
                    uri: "/v1/checks", method: .post, headers: Self.bearer(secret),
                    body: ByteBuffer(string: siteOverP)
                ).status == .created)
            for bad in [#"{"role": "root"}"#, #"{"role": "viewer", "extra": 1}"#, "not json", #"{"role": "viewer", "name": 5}"#] {
                let r = try await client.execute(uri: "/v1/keys", method: .post, headers: Self.bearer(admin), body: ByteBuffer(string: bad))
                #expect(r.status == .badRequest, "\(bad)")
            }
            let gone = try await client.execute(
                uri: "/v1/keys/第二审批系统".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!,
                method: .delete, headers: Self.bearer(admin))
            #expect(gone.status == .ok)
            // Twice is a conflict that says when; a key that never was is a 404.
            let twice = try await client.execute(
                uri: "/v1/keys/第二审批系统".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!,
                method: .delete, headers: Self.bearer(admin))
            #expect(twice.status == .conflict && String(buffer: twice.body).contains("already revoked"))
            #expect(try await client.execute(uri: "/v1/keys/9999", method: .delete, headers: Self.bearer(admin)).status == .notFound)
            #expect(
                try await client.execute(
                    uri: "/v1/checks", method: .post, headers: Self.bearer(secret),
                    body: ByteBuffer(string: siteOverP)
                ).status == .unauthorized)
        }
    }
}
