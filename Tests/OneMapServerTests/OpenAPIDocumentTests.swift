import Foundation
import Testing
@testable import OneMapServer

/// Reading openapi.yaml: YAML in, the values JSON has out.
struct OpenAPIDocumentTests {
    @Test func readsOnlyJSONsValuesAsOtherThanStrings() throws {
        let doc = try OpenAPI(yaml: """
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
        let doc = try OpenAPI(yaml: "openapi: 3.0.3\ninfo: {title: t}\n")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(doc.json(serverURL: "http://a.example:8080"))) as? [String: Any])
        #expect(json["servers"] as? [[String: String]] == [["url": "http://a.example:8080"]])
        #expect((json["info"] as? [String: Any])?["title"] as? String == "t")
        #expect(throws: OpenAPIError.self) { try OpenAPI(yaml: "openapi: 3.0.3\nservers: [{url: 'http://x'}]\n") }
        #expect(throws: (any Error).self) { try OpenAPI(yaml: "a: 1\na: 2\n") }
    }

    @Test func theBuiltInDocumentLoads() {
        #expect(OpenAPI.document.object["openapi"] as? String == "3.0.3")
        #expect(OpenAPI.document.paths.count > 30)
    }
}
