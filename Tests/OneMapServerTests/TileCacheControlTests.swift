import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// Versioned tile URLs are kept a year, and never by a shared cache when a restricted layer
/// is in the tile.
struct TileCacheControlTests {
    static let zxy = "16/54613/27454"

    /// The tile URL the TileJSON at `path` gives, filled in.
    static func tilePath(_ client: some TestClientProtocol, _ path: String, headers: HTTPFields) async throws -> String {
        let r = try await client.execute(uri: path, method: .get, headers: headers)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
        let template = try #require((object["tiles"] as? [String])?.first)
        let start = try #require(template.range(of: "/tiles/"))
        return String(template[start.lowerBound...]).replacingOccurrences(of: "{z}/{x}/{y}", with: zxy)
    }

    @Test func aTileWithARestrictedLayerIsPrivate() async throws {
        let store = try storeWithRestrictedLayer()
        let viewer = try KeyRing(store: store).create(role: .viewer, name: "规划查询").secret
        let key: HTTPFields = [.authorization: "Bearer \(viewer)"]
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let year = "max-age=31536000, immutable"
            for (tileJSON, headers, expected) in [
                ("/tiles/secret.json", key, "private, " + year), ("/tiles/onemap.json", key, "private, " + year),
                ("/tiles/farmland.json", key, "public, " + year), ("/tiles/onemap.json", [:], "public, " + year)
            ] {
                let path = try await Self.tilePath(client, tileJSON, headers: headers)
                let r = try await client.execute(uri: path, method: .get, headers: headers)
                #expect(r.status == .ok && r.headers[.cacheControl] == expected, "\(path) \(headers.isEmpty ? "anonymous" : "viewer")")
            }
            let plain = try await client.execute(uri: "/tiles/secret/\(Self.zxy).mvt", method: .get, headers: key)
            #expect(plain.status == .ok && plain.headers[.cacheControl] == "private, no-cache")
            // The viewer's set of layers asked anonymously: sent to the public set, which
            // names and holds no restricted layer.
            let viewers = try await Self.tilePath(client, "/tiles/onemap.json", headers: key)
            let publicSet = try await Self.tilePath(client, "/tiles/onemap.json", headers: [:])
            let r = try await client.execute(uri: viewers, method: .get)
            #expect(viewers != publicSet && r.status == .found && r.headers[.location] == publicSet)
            #expect(!String(buffer: r.body).contains("secret"))
            #expect(try await client.execute(uri: "/tiles/secret@1/\(Self.zxy).mvt", method: .get).status == .notFound)
        }
    }
}
