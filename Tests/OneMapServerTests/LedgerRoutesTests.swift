import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import OneMapServer

/// Found by schemathesis: empty or impossible parameters gave 500s; they are the caller's errors.
struct LedgerRoutesTests {
    @Test func badLedgerAndDiffRequestsAre4xx() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            for (uri, status) in [
                ("/v1/ledger?by=", HTTPResponse.Status.badRequest),
                ("/v1/ledger", .unprocessableContent),  // no admin layer loaded
                ("/v1/layers/farmland/diff?to=", .notFound),
                ("/v1/layers/farmland/diff", .unprocessableContent),  // only one version
                ("/v1/layers/nope/versions", .notFound),
                ("/v1/audit?pairs=farmland", .badRequest),
                ("/v1/audit?minArea=-1", .badRequest)
            ] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == status, "\(uri) answered \(r.status)")
                let body = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                #expect(r.headers[.contentType] == "application/problem+json", "\(uri)")
                #expect(
                    body?["status"] as? Int == Int(status.code) && body?["code"] != nil && body?["detail"] != nil, "\(uri) has a problem")
            }
            let versions = try await client.execute(uri: "/v1/layers/farmland/versions", method: .get)
            #expect(versions.status == .ok)
        }
    }
}
