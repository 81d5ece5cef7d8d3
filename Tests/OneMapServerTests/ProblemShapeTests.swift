import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// Every error of every route family is one shape: an RFC 9457 problem as
/// `application/problem+json`, whose `status` is the HTTP status and whose `title`, `detail`
/// and `code` say something. A route that answered with another shape (the old
/// `{"error", "detail"}`, an OGC `{"code", "description"}`, Hummingbird's own, plain text)
/// fails here.
struct ProblemShapeTests {
    struct Bad: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method = .get
        let uri: String
        let status: HTTPResponse.Status
        var code: ProblemCode? = nil
        var headers: HTTPFields = [:]
        var body: String? = nil
        var description: String { "\(method) \(uri)" }
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    /// Asserts the one shape, and returns the problem for more checks.
    @discardableResult
    static func assertProblem(_ r: TestResponse, _ bad: Bad) throws -> [String: Any] {
        #expect(r.status == bad.status, "\(bad): \(r.status) \(String(buffer: r.body).prefix(300))")
        #expect(r.headers[.contentType] == "application/problem+json", "\(bad): \(r.headers[.contentType] ?? "no Content-Type")")
        let object = try #require(
            try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any], "\(bad): \(String(buffer: r.body).prefix(300))"
        )
        #expect(object["type"] as? String == "about:blank", "\(bad)")
        #expect(object["status"] as? Int == Int(r.status.code), "\(bad): status member \(object["status"] ?? "none")")
        #expect((object["title"] as? String)?.isEmpty == false, "\(bad): no title")
        #expect((object["detail"] as? String)?.isEmpty == false, "\(bad): no detail")
        let code = try #require(object["code"] as? String, "\(bad): no code")
        #expect(ProblemCode(rawValue: code) != nil, "\(bad): code \(code) is not a documented one")
        if let expected = bad.code { #expect(code == expected.rawValue, "\(bad): code \(code)") }
        #expect(object["instance"] as? String == String(bad.uri.prefix { $0 != "?" }), "\(bad): instance")
        return object
    }

    @Test func everyRouteFamilyAnswersOneShape() async throws {
        let store = try storeWithRestrictedLayer()
        let keys = KeyRing(store: store)
        let viewer = try keys.create(role: .viewer, name: "查询").secret
        let admin = try keys.create(role: .admin, name: nil).secret
        let limits = ServerConfiguration.Limits(maxBodyBytes: 4096)
        let app = buildApplication(
            store: store, configuration: ServerConfiguration(limits: limits, assets: ViewerAssets(searching: ["/nonexistent"])))
        let big = "{\"geometry\": \"" + String(repeating: "x", count: 10_000) + "\"}"
        let bads: [Bad] = [
            // Router and Hummingbird's own.
            Bad(uri: "/nowhere", status: .notFound, code: .notFound),
            Bad(method: .put, uri: "/nowhere", status: .notFound, code: .notFound),
            Bad(method: .delete, uri: "/collections", status: .methodNotAllowed, code: .methodNotAllowed),
            // OGC API – Features.
            Bad(uri: "/collections/nope", status: .notFound, code: .notFound),
            Bad(uri: "/collections/farmland/items?limit=0", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/collections/farmland/items?limit=ten", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/collections/farmland/items?bbox=1,2", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/collections/farmland/items?filter=DLBM%20%3D", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/collections/farmland/items/nope", status: .notFound, code: .notFound),
            Bad(uri: "/collections?f=xml", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/collections/secret", status: .notFound, code: .notFound),
            Bad(uri: "/api?x=1", status: .badRequest, code: .invalidParameterValue),
            // Identify.
            Bad(uri: "/v1/identify?lon=east&lat=28", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/v1/identify?lon=500&lat=28", status: .badRequest, code: .invalidParameterValue),
            // Checks, and the key middleware's 401 and 403.
            Bad(method: .post, uri: "/v1/checks", status: .unauthorized, code: .unauthorized, headers: Self.json, body: "{}"),
            Bad(uri: "/v1/checks", status: .unauthorized, headers: [.authorization: "Basic eDp5"]),
            Bad(uri: "/v1/checks", status: .unauthorized, headers: [.authorization: "Bearer om_not_a_key"]),
            Bad(
                method: .post, uri: "/v1/keys", status: .forbidden, code: .forbidden,
                headers: [.authorization: "Bearer \(viewer)", .contentType: "application/json"], body: "{\"role\": \"viewer\"}"),
            Bad(
                method: .post, uri: "/v1/keys", status: .badRequest, code: .invalidRequestBody,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"], body: "{\"role\": \"king\"}"),
            Bad(
                method: .post, uri: "/v1/checks", status: .badRequest, code: .invalidRequestBody,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"], body: "{"),
            Bad(
                method: .post, uri: "/v1/checks", status: .contentTooLarge, code: .contentTooLarge,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"], body: big),
            Bad(uri: "/v1/checks/nope", status: .notFound, code: .notFound, headers: [.authorization: "Bearer \(admin)"]),
            Bad(uri: "/v1/checks?limit=0", status: .badRequest, code: .invalidParameterValue, headers: [.authorization: "Bearer \(admin)"]),
            // Ledger, audit, versions.
            Bad(uri: "/v1/audit?minArea=-1", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/v1/ledger", status: .unprocessableContent, code: .unprocessableContent),  // no admin layer loaded
            Bad(uri: "/v1/audit?pairs=", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/v1/layers/nope/versions", status: .notFound, code: .notFound),
            // Tiles and styles.
            Bad(uri: "/tiles/farmland/1/0/x.mvt", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/tiles/farmland/3/99/0.mvt", status: .notFound, code: .notFound),
            Bad(uri: "/tiles/nope.json", status: .notFound, code: .notFound),
            Bad(uri: "/styles/NOPE.json", status: .badRequest, code: .invalidParameterValue),
            Bad(uri: "/styles/none.json", status: .notFound, code: .notFound),
            // The viewer's files.
            Bad(uri: "/viewer/secret.txt", status: .notFound, code: .notFound),
            Bad(uri: "/static/maplibre/maplibre-gl.js", status: .serviceUnavailable, code: .serviceUnavailable)
        ]
        try await app.test(.router) { client in
            for bad in bads {
                let r = try await client.execute(
                    uri: bad.uri, method: bad.method, headers: bad.headers, body: bad.body.map { ByteBuffer(string: $0) })
                try Self.assertProblem(r, bad)
                if bad.status == .unauthorized { #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(bad)") }
                if bad.status == .methodNotAllowed { #expect(r.headers[.allow]?.contains("GET") == true, "\(bad)") }
            }
        }
    }

    /// The 429 of anonymous checks under `--open` carries Retry-After and the same shape.
    @Test func rateLimitIsAProblem() async throws {
        let app = buildApplication(
            store: try farmlandStore(),
            configuration: ServerConfiguration(open: true, limits: ServerConfiguration.Limits(openChecksPerMinute: 1)))
        try await app.test(.router) { client in
            var limited: TestResponse?
            for _ in 0..<5 where limited == nil {
                let r = try await client.execute(uri: "/v1/checks", method: .post, headers: Self.json, body: ByteBuffer(string: siteOverP))
                if r.status == .tooManyRequests { limited = r }
            }
            let r = try #require(limited, "no 429 in five checks at one a minute")
            try Self.assertProblem(r, Bad(method: .post, uri: "/v1/checks", status: .tooManyRequests, code: .tooManyRequests))
            #expect(Int(r.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
    }

    /// `error` and `description` are still sent for one release (deprecated), with what they said before.
    @Test func deprecatedAliasesStillSent() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/layers/nope/versions", method: .get)
            let p = try Self.assertProblem(r, Bad(uri: "/v1/layers/nope/versions", status: .notFound))
            #expect(p["error"] as? String == "unknown layer")
            #expect(p["description"] as? String == p["detail"] as? String)
        }
    }
}
