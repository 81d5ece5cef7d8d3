import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import OneMapServer

/// Reading openapi.yaml: YAML in, the values JSON has out.
struct OpenAPIDocumentTests {
    @Test func readsOnlyJSONsValuesAsOtherThanStrings() throws {
        let doc = try OpenAPI(
            yaml: """
                openapi: 3.0.3
                plain: [yes, 0101, 2026-01-01, on, 1e5x]
                typed: [5, -1.5, true, false, null, '7']
                responses: {200: {description: ok}}
                """)
        #expect(doc.object["plain"] as? [String] == ["yes", "0101", "2026-01-01", "on", "1e5x"])
        let typed = try #require(doc.object["typed"] as? [Any])
        #expect(typed[0] as? Int == 5 && typed[1] as? Double == -1.5 && typed[2] as? Bool == true && typed[3] as? Bool == false)
        #expect(typed[4] is NSNull && typed[5] as? String == "7")
        #expect((doc.object["responses"] as? [String: Any])?["200"] != nil)
    }

    @Test func theServerURLIsFilledInPerRequest() throws {
        let doc = try OpenAPI(yaml: "openapi: 3.0.3\ninfo: {title: t}")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(doc.json(serverURL: "http://a.example:8080"))) as? [String: Any])
        #expect(json["servers"] as? [[String: String]] == [["url": "http://a.example:8080"]])
        #expect((json["info"] as? [String: Any])?["title"] as? String == "t")
        #expect(
            String(decoding: doc.yaml(serverURL: "http://a.example:8080"), as: UTF8.self)
                == "openapi: 3.0.3\ninfo: {title: t}\nservers:\n  - url: \"http://a.example:8080\"\n")
        // A file that names servers, or after which no servers can follow, is refused.
        for bad in ["openapi: 3.0.3\nservers: [{url: 'http://x'}]\n", "openapi: 3.0.3\n...\n", "- a\n", "a: 1\na: 2\n"] {
            #expect(throws: (any Error).self, "\(bad)") { try OpenAPI(yaml: bad) }
        }
    }

    @Test func theBuiltInDocumentLoads() {
        #expect(OpenAPI.document.object["openapi"] as? String == "3.0.3")
        #expect(OpenAPI.document.paths.count > 30)
    }

    @Test func yamlIsServedAsWritten() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/api?f=yaml", method: .get)
            #expect(r.status == .ok && r.headers[.contentType] == OpenAPIRoutes.yamlMediaType)
            let text = String(buffer: r.body)
            #expect(text.hasPrefix(Embedded.openapiYaml))
            #expect(text.dropFirst(Embedded.openapiYaml.count).hasPrefix("servers:\n  - url: \"http://"), "\(text.suffix(80))")
        }
    }
}
