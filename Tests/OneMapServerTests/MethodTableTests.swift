import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import OneMapServer

struct MethodTableTests {
    @Test func templatesMatchWholeSegmentsAndSuffixes() {
        let table = MethodTable(paths: [
            "/v1/checks": ["get": [:], "post": [:]] as [String: Any],
            "/v1/checks/{id}": ["get": [:]] as [String: Any],
            "/tiles/{layer}/{z}/{x}/{y}.mvt": ["get": [:]] as [String: Any]
        ])
        #expect(table.methods(for: "/v1/checks") == ["GET", "HEAD", "POST"])
        #expect(table.methods(for: "/v1/checks/chk_1") == ["GET", "HEAD"])
        #expect(table.methods(for: "/tiles/farmland/1/2/3.mvt") == ["GET", "HEAD"])
        for unknown in ["/v1/checks/a/b", "/tiles/farmland/1/2/3.png", "/tiles/farmland/1/2/.mvt", "/v1", "/", "/v1/checkss"] {
            #expect(table.methods(for: unknown) == nil, "\(unknown)")
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/layers", method: .delete)
            #expect(r.status == .methodNotAllowed)
            #expect(r.headers[.allow] == "GET, HEAD")
            #expect(String(buffer: r.body).contains("\"error\":\"method not allowed\""))
            let reload = try await client.execute(uri: "/v1/layers/farmland/reload", method: .get)
            #expect(reload.status == .methodNotAllowed && reload.headers[.allow] == "POST")
            // Unknown paths stay 404, whatever the method; known ones still answer.
            #expect(try await client.execute(uri: "/nowhere", method: .delete).status == .notFound)
            #expect(try await client.execute(uri: "/nowhere", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/v1/layers", method: .get).status == .ok)
        }
    }
}
