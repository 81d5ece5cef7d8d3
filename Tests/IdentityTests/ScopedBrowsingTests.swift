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

/// A scoped caller browsing a restricted layer reads the features within its scope and no
/// other, from every face that serves features: the layer list, OGC API collections and
/// items (`numberMatched` too), single features, identify and tiles. (`scopedStore`: S-SC in
/// 遂昌 331123, S-QT in 青田 331121, S-X across the county line.)
struct ScopedBrowsingTests {
    let fixture: SignInFixture
    var store: Store { fixture.store }
    var idp: TestIssuer { fixture.idp }

    init() async throws { fixture = try await SignInFixture() }

    func app() -> some ApplicationProtocol { fixture.app() }

    func json(_ r: TestResponse) throws -> [String: Any] { try SignInFixture.json(r) }

    func ids(_ r: TestResponse) throws -> Set<String> {
        Set((try json(r)["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    @Test func restrictedFeaturesOutsideTheScopeDoNotExist() async throws {
        let suichang = try await idp.token(sub: "p-1", roles: ["om-planner"], xzqdm: ["331123"])
        let qingtian = try await idp.token(sub: "p-2", roles: ["om-viewer"], xzqdm: ["331121"])
        let city = try await idp.token(sub: "v-1", roles: ["om-viewer"])
        // A township of 遂昌: no township level is loaded, so the scope covers no ground.
        let township = try await idp.token(sub: "p-3", roles: ["om-viewer"], xzqdm: ["331123101"])
        try await app().test(.router) { client in
            func get(_ uri: String, _ token: String?, gzip: Bool = false) async throws -> TestResponse {
                var headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
                if gzip { headers[.acceptEncoding] = "gzip" }
                return try await client.execute(uri: uri, method: .get, headers: headers)
            }

            // Who the server takes each to be, as the viewer shows it.
            let me = try json(try await get("/v1/me", suichang))
            #expect(me["role"] as? String == "planner" && me["scope"] as? [String] == ["331123"] && me["signedIn"] as? Bool == true)
            #expect(try json(try await get("/v1/me", nil))["signedIn"] as? Bool == false)

            // Items, and how many match: the scope's part only, however it is asked.
            let items = try await get("/collections/secret/items", suichang)
            #expect(try ids(items) == ["S-SC", "S-X"])
            #expect(try json(items)["numberMatched"] as? Int == 2)
            #expect(try ids(try await get("/collections/secret/items", qingtian)) == ["S-QT", "S-X"])
            #expect(try ids(try await get("/collections/secret/items", city)) == ["S-SC", "S-QT", "S-X"])
            let overQingtian = try json(try await get("/collections/secret/items?bbox=120.15,27.95,120.25,28.05", suichang))
            #expect(overQingtian["numberMatched"] as? Int == 0)
            let filtered = try json(try await get("/collections/secret/items?filter=BSM%20LIKE%20%27S-%25%27", suichang))
            #expect(filtered["numberMatched"] as? Int == 2)
            #expect(try await get("/collections/secret/items?limit=1&offset=1", suichang).status == .ok)
            #expect(try await get("/collections/secret/items/S-QT", suichang).status == .notFound)
            #expect(try await get("/collections/secret/items/S-SC", suichang).status == .ok)
            #expect(try await get("/collections/secret/items/S-QT", city).status == .ok)
            #expect(try ids(try await get("/collections/secret/items", township)).isEmpty)
            #expect(try await get("/collections/secret/items", nil).status == .notFound)

            // The collection and the layer list give the part's count and extent.
            let collection = try json(try await get("/collections/secret", suichang))
            #expect((collection["description"] as? String)?.contains("): 2 ") == true, "\(collection)")
            let extent = (((collection["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])?.first
            #expect(extent.map { $0[2] <= 120.101 + 1e-9 } == true, "\(String(describing: extent))")
            let layers = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: try await get("/v1/layers", suichang).body)) as? [[String: Any]])
            #expect(layers.first { $0["name"] as? String == "secret" }?["count"] as? Int == 2)
            let html = String(buffer: try await get("/collections/secret/items?f=html", suichang).body)
            #expect(html.contains("S-SC") && !html.contains("S-QT"))

            // Identify: nothing of 青田's at 青田's feature; 遂昌's at its own.
            let there = String(buffer: try await get("/v1/identify?lon=120.201&lat=28.001", suichang).body)
            #expect(!there.contains("S-QT") && !there.contains(#""layer":"secret""#) && there.contains("F-QT"), "\(there)")
            #expect(String(buffer: try await get("/v1/identify?lon=120.001&lat=28.001", suichang).body).contains("S-SC"))
            #expect(String(buffer: try await get("/v1/identify?lon=120.201&lat=28.001", city).body).contains("S-QT"))

            // Tiles: 遂昌's tile holds its feature, privately and under a validator of its own;
            // 青田's tile is empty for 遂昌 and full for the city.
            let own = try await get("/tiles/secret/14/13653/6863.mvt", suichang)
            #expect(own.status == .ok && String(buffer: own.body).contains("S-SC"))
            #expect(own.headers[.cacheControl]?.hasPrefix("private") == true)
            let whole = try await get("/tiles/secret/14/13653/6863.mvt", city)
            #expect(whole.status == .ok && own.headers[.eTag] != whole.headers[.eTag])
            let theirs = try await get("/tiles/secret/14/13662/6863.mvt", suichang)
            #expect(theirs.status == .noContent && !String(buffer: theirs.body).contains("S-QT"))
            #expect(String(buffer: try await get("/tiles/secret/14/13662/6863.mvt", city).body).contains("S-QT"))
            // Asked again (now from the cut kept), and through every layer at once: the same.
            #expect(try await get("/tiles/secret/14/13662/6863.mvt", suichang).status == .noContent)
            let composite = try await get("/tiles/onemap/14/13662/6863.mvt", suichang)
            #expect(!String(buffer: composite.body).contains("S-QT") && String(buffer: composite.body).contains("F-QT"))
            #expect(String(buffer: try await get("/tiles/onemap/14/13662/6863.mvt", city).body).contains("S-QT"))
            // The layer across the line: in both counties' tiles.
            let line = try await get("/tiles/secret/14/13657/6863.mvt", qingtian)
            #expect(String(buffer: line.body).contains("S-X"))
        }
    }

    /// The ledger (一本账): a scoped caller's restricted layer is counted in its scope's units
    /// only, and its totals are theirs; public layers are counted everywhere. The audit pairs
    /// only the scope's features of it.
    @Test func theLedgerAndTheAuditCountARestrictedLayerInTheScopeOnly() async throws {
        let suichang = try await idp.token(sub: "p-1", roles: ["om-planner"], xzqdm: ["331123"])
        let city = try await idp.token(sub: "v-1", roles: ["om-viewer"])
        try await app().test(.router) { client in
            func ledger(_ token: String) async throws -> (units: [String: [String: [String: Any]]], totals: [String: [String: Any]]) {
                let r = try await client.execute(uri: "/v1/ledger", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let doc = try json(r)
                var units: [String: [String: [String: Any]]] = [:]
                for u in doc["units"] as? [[String: Any]] ?? [] {
                    units[u["code"] as? String ?? ""] = u["layers"] as? [String: [String: Any]]
                }
                return (units, doc["totals"] as? [String: [String: Any]] ?? [:])
            }
            let whole = try await ledger(city)
            let part = try await ledger(suichang)
            #expect(whole.totals["secret"]?["count"] as? Int == 3)
            #expect(whole.units["331121"]?["secret"] != nil)
            // 遂昌's row as the city sees it: S-SC and the half of S-X on this side of the line.
            let suichangRow = try #require(whole.units["331123"]?["secret"]?["areaM2"] as? Double)
            #expect(part.units["331123"]?["secret"]?["areaM2"] as? Double == suichangRow)
            #expect(part.units["331121"]?["secret"] == nil, "\(String(describing: part.units["331121"]))")
            #expect(part.units["331121"]?["farmland"] != nil)
            let total = try #require(part.totals["secret"]?["areaM2"] as? Double)
            #expect(abs(total - suichangRow) < 1e-6 * suichangRow && part.totals["secret"]?["count"] as? Int == 2)

            // The audit of farmland against the restricted layer: 遂昌's pair only.
            func pairs(_ token: String) async throws -> [String] {
                let r = try await client.execute(
                    uri: "/v1/audit?pairs=farmland:secret", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                return (try json(r)["pairs"] as? [[String: Any]] ?? []).map { "\($0["aId"] ?? "")/\($0["bId"] ?? "")" }.sorted()
            }
            #expect(try await pairs(city) == ["F-QT/S-QT", "F-SC/S-SC"])
            #expect(try await pairs(suichang) == ["F-SC/S-SC"])
        }
    }

    /// The summaries over whole layers cut a restricted layer to the scope too: its change
    /// report (the changes of the scope's part of either version), the land-use ledger by
    /// 坐落单位代码 (the units the scope covers), and the topology report (the overlaps and gaps
    /// within the scope's ground).
    @Test func changeReportsLocationLedgersAndTopologyAreCutToTheScope() async throws {
        let dir = (store.path as NSString).deletingLastPathComponent
        func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Polygon {
            Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]])
        }
        // The restricted layer's second version: 遂昌's S-SC reshaped and S-SC2 added, 青田's
        // S-QT removed and S-QT2 added, S-X (across the line) as it was.
        let path = dir + "/secret-2.geojson"
        let w = try VectorWriter(
            path: path, format: .geoJSON, layerName: "secret", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text)])
        for (id, p) in [
            ("S-SC", square(120.0, 28.0, 120.003, 28.002)), ("S-SC2", square(120.05, 28.05, 120.051, 28.051)),
            ("S-QT2", square(120.25, 28.05, 120.251, 28.051)), ("S-X", square(120.099, 28.0, 120.101, 28.002))
        ] {
            try w.write(geometry: .polygon(p), attributes: [.text(id)])
        }
        try w.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(
                name: "secret", title: "涉密图层", kind: .other, source: path, idField: "BSM", access: .restricted,
                rule: Rule(severity: .restricted)))
        // A restricted land-use layer: a pair of overlapping 图斑 in each county, with their codes.
        let landUse = dir + "/tuban.geojson"
        let lw = try VectorWriter(
            path: landUse, format: .geoJSON, layerName: "tuban", crs: "EPSG:4490", geometryType: "Polygon",
            fields: ["BSM", "DLBM", "ZLDWDM"].map { FieldDefinition(name: $0, type: .text) })
        for (id, p, unit) in [
            ("T-SC1", square(120.0, 27.95, 120.01, 27.96), "331123101001"),
            ("T-SC2", square(120.005, 27.95, 120.015, 27.96), "331123101002"),
            ("T-QT1", square(120.2, 27.95, 120.21, 27.96), "331121102001"),
            ("T-QT2", square(120.205, 27.95, 120.215, 27.96), "331121102001")
        ] {
            try lw.write(geometry: .polygon(p), attributes: [.text(id), .text("0101"), .text(unit)])
        }
        try lw.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(
                name: "tuban", title: "地类图斑", kind: .landUse, source: landUse, idField: "BSM", access: .restricted,
                landUse: LandUseFields()))

        let suichang = try await idp.token(sub: "p-1", roles: ["om-planner"], xzqdm: ["331123"])
        let city = try await idp.token(sub: "v-1", roles: ["om-viewer"])
        try await app().test(.router) { client in
            func get(_ uri: String, _ token: String) async throws -> [String: Any] {
                let r = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(r.status == .ok, "\(uri): \(String(buffer: r.body))")
                return try json(r)
            }
            func ids(_ o: [String: Any], _ key: String) -> [String] {
                ((o[key] as? [Any]) ?? []).map { ($0 as? String) ?? (($0 as? [String: Any])?["id"] as? String ?? "") }.sorted()
            }
            let whole = try await get("/v1/layers/secret/diff", city)
            #expect(ids(whole, "added") == ["S-QT2", "S-SC2"] && ids(whole, "removed") == ["S-QT"] && ids(whole, "changed") == ["S-SC"])
            let part = try await get("/v1/layers/secret/diff", suichang)
            #expect(ids(part, "added") == ["S-SC2"] && ids(part, "removed") == [] && ids(part, "changed") == ["S-SC"], "\(part)")
            #expect(((part["byCounty"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["331123"])

            // By township, from the 图斑's codes (no township boundaries are loaded).
            let cityLedger = try await get("/v1/ledger?by=township&layers=tuban", city)
            let partLedger = try await get("/v1/ledger?by=township&layers=tuban", suichang)
            func units(_ o: [String: Any]) -> [String] { ((o["units"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } }
            #expect(units(cityLedger) == ["331121102", "331123101"] && units(partLedger) == ["331123101"], "\(partLedger)")
            let totals = (partLedger["totals"] as? [String: [String: Any]])?["tuban"]
            #expect(totals?["count"] as? Int == 2, "\(String(describing: totals))")
        }
        // The topology report, as a scoped caller would be given it: 遂昌's overlap and gaps only.
        let scoped = Caller(keyName: "sso:遂昌规划 (p-1)", role: .planner, scope: try DataScope(codes: ["331123"]), subject: "p-1")
        let wholeReport = try LandUseTopology(store: store).run(layer: "tuban", for: Caller(keyName: "v", role: .viewer))
        let partReport = try LandUseTopology(store: store).run(layer: "tuban", for: scoped)
        let wholePairs: [[String]] = wholeReport.overlaps.map { $0.ids }.sorted { $0[0] < $1[0] }
        #expect(wholePairs == [["T-QT1", "T-QT2"], ["T-SC1", "T-SC2"]])
        let partPairs: [[String]] = partReport.overlaps.map { $0.ids }
        #expect(partPairs == [["T-SC1", "T-SC2"]] && partReport.features == 2)
        #expect(!wholeReport.gaps.isEmpty && partReport.gaps.allSatisfy { $0.county == "331123" })
        #expect(wholeReport.gaps.contains { $0.county == "331121" } && partReport.gaps.count < wholeReport.gaps.count)
        // Without the viewer role the layer does not exist, in the report as anywhere.
        #expect(throws: StoreError.self) { try LandUseTopology(store: store).run(layer: "tuban", for: .anonymous) }
    }

    /// The cut follows the boundaries: 遂昌's redrawn to take in 青田's feature (a new version
    /// of the admin layer), its tiles and pages show that feature at once, from no cached tile.
    @Test func redrawnBoundariesMakeANewCut() async throws {
        let suichang = try await idp.token(sub: "p-1", roles: ["om-planner"], xzqdm: ["331123"])
        try await app().test(.router) { client in
            func get(_ uri: String) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(suichang)"])
            }
            #expect(try await get("/tiles/secret/14/13662/6863.mvt").status == .noContent)
            #expect(try json(try await get("/collections/secret/items"))["numberMatched"] as? Int == 2)
            let path = (store.path as NSString).deletingLastPathComponent + "/admin-redrawn.geojson"
            let w = try VectorWriter(
                path: path, format: .geoJSON, layerName: "admin", crs: "EPSG:4490", geometryType: "Polygon",
                fields: ["XZQDM", "XZQMC", "level"].map { FieldDefinition(name: $0, type: .text) })
            func square(_ x0: Double, _ x1: Double) -> Geometry {
                .polygon(
                    Polygon([[Coordinate(x0, 27.9), Coordinate(x1, 27.9), Coordinate(x1, 28.1), Coordinate(x0, 28.1), Coordinate(x0, 27.9)]]
                    ))
            }
            try w.write(geometry: square(119.9, 120.25), attributes: [.text("331123"), .text("遂昌县"), .text("county")])
            try w.write(geometry: square(120.25, 120.3), attributes: [.text("331121"), .text("青田县"), .text("county")])
            try w.close()
            _ = try LayerImporter(store: store).load(
                LayerSpec(name: "admin", title: "行政区划", kind: .admin, source: path, idField: "XZQDM", labelField: "XZQMC"))
            let tile = try await get("/tiles/secret/14/13662/6863.mvt")
            #expect(tile.status == .ok && String(buffer: tile.body).contains("S-QT"))
            #expect(try json(try await get("/collections/secret/items"))["numberMatched"] as? Int == 3)
        }
    }
}
