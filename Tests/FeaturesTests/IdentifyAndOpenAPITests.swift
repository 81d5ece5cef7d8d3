import Foundation
import FuzzSupport
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

@testable import Features

struct IdentifyTests {
    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    @Test func polygonsContainingAndLinesNearby() async throws {
        try await fixtures.app().test(.router) { client in
            let inside = try await client.get("/v1/identify?lon=120.0035&lat=28.0055")
            #expect(inside.status == .ok && inside.headers[.contentType] == "application/geo+json")
            let features = try inside.features()
            #expect(features.map { $0["id"] as? String } == ["P53"])
            #expect(features[0]["layer"] as? String == "parcels" && features[0]["layerTitle"] as? String == "示例地块")
            #expect((features[0]["properties"] as? [String: Any])?["DLBM"] as? String == "0101")
            #expect(abs((features[0]["areaM2"] as? Double ?? 0) - 98.0 * 111.0) < 2_000)  // about 0.001° × 0.001°
            #expect(features[0]["geometry"] is [String: Any])

            // 0.00003° (about 3.3 m) north of the pipeline at y = 28.0105: inside cell (0, 10)? no: the grid ends at 28.010.
            let near = try await client.get("/v1/identify?lon=120.005&lat=28.01053")
            let hit = try near.features()
            #expect(hit.map { $0["id"] as? String } == ["G1"])
            let distance = try #require(hit.first?["distanceM"] as? Double)
            #expect(abs(distance - 3.33) < 0.1, "\(distance)")
            // Farther than the default 5 m: nothing; a wider tolerance finds it.
            #expect(try await client.get("/v1/identify?lon=120.005&lat=28.0106").features().isEmpty)
            let r79023 = try await client.get("/v1/identify?lon=120.005&lat=28.0106&tolerance=20")
            #expect(try r79023.ids() == ["G1"])
            // A shared corner belongs to all four cells; layers= narrows; geometry=false drops geometries.
            let corner = try await client.get("/v1/identify?lon=120.001&lat=28.001&layers=parcels&geometry=false")
            #expect(try Set(corner.ids()) == ["P00", "P01", "P10", "P11"])
            #expect(try corner.features().allSatisfy { $0["geometry"] is NSNull })
            #expect(try await client.get("/v1/identify?lon=121&lat=29").features().isEmpty)
        }
    }

    @Test(arguments: [
        "lon=120", "lat=28", "lon=abc&lat=28", "lon=200&lat=28", "lon=120&lat=-91", "lon=120&lat=28&tolerance=-1",
        "lon=120&lat=28&tolerance=5000", "lon=120&lat=28&foo=1", "lon=120&lon=121&lat=28",
        "lon=120&lat=28&geometry=maybe", "lon=nan&lat=28"
    ])
    func badIdentifyRequestsAre400(_ query: String) async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/v1/identify?\(query)")
            #expect(r.status == .badRequest, "\(query)")
            let body = try r.json()
            #expect(body["code"] as? String == "InvalidParameterValue" && (body["detail"] as? String)?.isEmpty == false, "\(query)")
        }
    }

    @Test func commandLineLookupMatchesTheAPI() throws {
        let result = try IdentifyLookup.run(store: fixtures.store, lon: 120.0035, lat: 28.0055, layers: nil)
        #expect(result.count == 1)
        #expect(result.text.contains("示例地块 (parcels)") && result.text.contains("P53") && result.text.contains("DLBM=0101"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json)) as? [String: Any])
        #expect((json["features"] as? [[String: Any]])?.first?["id"] as? String == "P53")
        #expect(throws: IdentifyLookup.IdentifyError.self) {
            try IdentifyLookup.run(store: fixtures.store, lon: 120, lat: 28, layers: ["secret"])
        }
    }
}

/// Runs `python3 -m openapi_spec_validator` on the served document. The module comes from the
/// PyPI package `openapi-spec-validator`; without it the test is skipped and says so.
struct OpenAPITests {
    static let validatorAvailable: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import openapi_spec_validator"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try ChildProcess.launch(p) } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    func document() async throws -> (Data, [String: Any]) {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/api")
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/vnd.oai.openapi+json;version=3.0")
            return (r.body, try r.json())
        }
    }

    @Test func describesEveryEndpoint() async throws {
        let (_, doc) = try await document()
        #expect(doc["openapi"] as? String == "3.0.3")
        let paths = try #require(doc["paths"] as? [String: Any])
        for path in [
            "/", "/conformance", "/api", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}", "/collections/{collectionId}/queryables", "/v1/identify",
            "/v1/checks", "/v1/checks/{id}", "/v1/checks/{id}/report", "/health", "/ready", "/tiles/{layer}/{z}/{x}/{y}.mvt",
            "/tiles/{layer}.json", "/tiles/onemap.json", "/tiles/onemap/{z}/{x}/{y}.mvt", "/tiles/4490/{layer}/{z}/{x}/{y}.mvt",
            "/styles/{name}.json", "/v1/layers", "/v1/ledger", "/v1/audit", "/v1/layers/{name}/versions", "/v1/layers/{name}/diff"
        ] {
            #expect(paths[path] != nil, "\(path) is missing")
        }
        // A limit above the server's maximum is served as the maximum, not refused (OGC API –
        // Features /req/core/fc-limit-response-1), so the schema has no maximum for Schemathesis
        // to send past and expect a 400; the description says what the maximum is.
        let params = try #require((doc["components"] as? [String: Any])?["parameters"] as? [String: Any])
        let limitParameter = try #require(params["limit"] as? [String: Any])
        let limit = try #require(limitParameter["schema"] as? [String: Any])
        #expect(limit["maximum"] == nil && limit["minimum"] as? Int == 1 && limit["default"] as? Int == 10)
        #expect((limitParameter["description"] as? String)?.contains("10000") == true)
        let servers = try #require(doc["servers"] as? [[String: Any]])
        #expect(servers.first?["url"] as? String != nil)
    }

    /// openapi.yaml is a file, but some of what it says is the server's: the URL it was reached
    /// at (filled in per request) and the CRSs it offers (written in the file, checked here).
    @Test func saysWhatTheServerDoes() async throws {
        let (_, doc) = try await document()
        let params = try #require((doc["components"] as? [String: Any])?["parameters"] as? [String: Any])
        for name in ["bbox-crs", "crs", "filter-crs"] {
            let schema = (params[name] as? [String: Any])?["schema"] as? [String: Any]
            #expect(schema?["enum"] as? [String] == FeatureCRS.supported.map(\.uri), "\(name)'s CRSs are not FeatureCRS.supported")
        }
        let servers = (doc["servers"] as? [[String: Any]])?.map { $0["url"] as? String }
        try await fixtures.app().test(.router) { client in
            let landing = try await client.get("/?f=json").json()
            let links = try #require(landing["links"] as? [[String: Any]])
            let api = try #require(links.first { $0["rel"] as? String == "service-desc" }?["href"] as? String)
            #expect(servers?.count == 1 && servers?.first == .some(String(api.dropLast("/api".count))))
        }
    }

    @Test(
        .enabled(
            if: OpenAPITests.validatorAvailable,
            "openapi-spec-validator is not installed (pip install openapi-spec-validator): /api was not validated"),
        arguments: ["json", "yaml"])
    func validatesWithOpenAPISpecValidator(_ format: String) async throws {
        let body = try await fixtures.app().test(.router) { client in try await client.get("/api?f=\(format)").body }
        let path = fixtures.dir + "/openapi-\(UUID().uuidString).\(format)"
        try body.write(to: URL(fileURLWithPath: path))
        let r = try ChildProcess.run("/usr/bin/env", ["python3", "-m", "openapi_spec_validator", path], mergeError: true)
        let output = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0, "openapi-spec-validator: \(output)")
        #expect(output.contains("OK"), "\(output)")
    }

    /// YAML when asked for, by f= or by an Accept header preferring it; JSON otherwise.
    @Test func yamlWhenAskedFor() async throws {
        try await fixtures.app().test(.router) { client in
            let servers = try await client.get("/api").json()["servers"] as? [[String: Any]]
            let url = try #require(servers?.first?["url"] as? String)
            for r in [
                try await client.get("/api?f=yaml"), try await client.get("/api", accept: "application/vnd.oai.openapi;version=3.0"),
                try await client.get("/api", accept: "application/yaml, application/json;q=0.5")
            ] {
                #expect(r.status == .ok && r.headers[.contentType] == "application/vnd.oai.openapi;version=3.0")
                #expect(r.text.hasPrefix("# The OpenAPI 3.0 document") && r.text.hasSuffix("\nservers:\n  - url: \"\(url)\"\n"))
            }
            for accept in [
                "*/*", "application/*", "application/json", "application/vnd.oai.openapi+json;version=3.0",
                "application/yaml;q=0.5, application/json"
            ] {
                let r = try await client.get("/api", accept: accept)
                #expect(r.headers[.contentType] == "application/vnd.oai.openapi+json;version=3.0", "\(accept)")
            }
            #expect(try await client.get("/api?f=yml").status == .badRequest)
            // The other OGC routes have no YAML.
            #expect(try await client.get("/conformance?f=yaml").status == .badRequest)
            #expect(
                try await client.get("/conformance", accept: "application/yaml").headers[.contentType]?.hasPrefix("application/json")
                    == true)
        }
    }

    @Test func htmlForABrowser() async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/api", accept: "text/html")
            #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(r.text.contains("/collections/{collectionId}/items") && r.text.contains("/v1/checks"))
        }
    }
}
