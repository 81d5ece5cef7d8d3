import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import LayerStore
import OneMapServer
import Testing

/// A scoped caller browsing a restricted layer reads the features within its scope and no
/// other, from every face that serves features: the layer list, OGC API collections and
/// items (`numberMatched` too), single features, identify and tiles. (`scopedStore`: S-SC in
/// 遂昌 331123, S-QT in 青田 331121, S-X across the county line.)
struct ScopedBrowsingTests {
    let store: Store
    let idp: TestIssuer
    let verifier: TokenVerifier

    init() async throws {
        store = try scopedStore()
        idp = try await TestIssuer.make()
        verifier = try await TokenVerifier.make(idp.configuration())
    }

    func app() -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.tokens = verifier
        return buildApplication(store: store, configuration: configuration)
    }

    func json(_ r: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
    }

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
}
