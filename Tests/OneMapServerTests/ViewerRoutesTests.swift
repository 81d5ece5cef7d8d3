import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import OneMapServer

struct ViewerRoutesTests {
    @Test func pageLayersAndCheckGeometry() async throws {
        let app = buildApplication(
            store: try farmlandStore(), configuration: ServerConfiguration(open: true, assets: ViewerAssets(searching: ["/nonexistent"])))
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/viewer", method: .get)
            #expect(page.status == .ok && String(buffer: page.body).contains("国土空间"))
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let js = try await client.execute(uri: "/viewer/app.js", method: .get)
            #expect(js.status == .ok && String(buffer: js.body).contains("maplibregl"))
            // Only the named files: anything else, including traversal, is a 404.
            for path in [
                "/viewer/..%2F..%2FPackage.swift", "/viewer/secret.txt", "/static/maplibre/..%2F..%2Fetc%2Fpasswd", "/static/maplibre/x.js"
            ] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.status == .notFound, "\(path)")
            }
            // MapLibre missing on disk is said plainly.
            let missing = try await client.execute(uri: "/static/maplibre/maplibre-gl.js", method: .get)
            #expect(missing.status == .serviceUnavailable && String(buffer: missing.body).contains("make vendor"))
            #expect(String(buffer: missing.body).contains("/nonexistent"), "the places looked in")

            let layers = try await client.execute(uri: "/v1/layers", method: .get)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(buffer: layers.body)) as? [[String: Any]])
            #expect(list.map { $0["name"] as? String } == ["farmland"] && list.first?["title"] as? String == "永久基本农田")

            let created = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: siteOverP))
            let id = try #require((try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any])?["id"] as? String)
            let geo = try await client.execute(uri: "/v1/checks/\(id)/geojson", method: .get)
            let fc = try #require(try JSONSerialization.jsonObject(with: Data(buffer: geo.body)) as? [String: Any])
            let roles = ((fc["features"] as? [[String: Any]]) ?? []).compactMap { ($0["properties"] as? [String: Any])?["role"] as? String }
            #expect(roles.contains("site") && roles.contains("overlap") && roles.contains("feature"))
        }
    }

    /// The places a binary looks in do not depend on the directory it was started from, except
    /// the working directory itself, last.
    @Test func assetsAreLookedForBesideTheBinary() throws {
        let installed = ViewerAssets.directories(explicit: nil, executable: "/opt/onemap/bin/onemap", workingDirectory: "/srv")
        #expect(installed == ["/opt/onemap/share/onemap", "/srv"])
        let built = ViewerAssets.directories(
            explicit: nil, executable: "/src/onemap/.build/x86_64-unknown-linux-gnu/debug/onemap", workingDirectory: "/srv")
        #expect(built == ["/src/onemap/.build/x86_64-unknown-linux-gnu/share/onemap", "/src/onemap", "/srv"])
        // --assets alone, relative to where the server was started.
        #expect(
            ViewerAssets.directories(explicit: "assets", executable: "/opt/onemap/bin/onemap", workingDirectory: "/srv") == ["/srv/assets"])

        let checkout = ViewerAssets(searching: ["/nonexistent", FileManager.default.currentDirectoryPath])
        #expect(checkout.maplibre?.hasSuffix("vendor/maplibre") == true && checkout.styles?.hasSuffix("Styles") == true)
        let none = ViewerAssets(searching: ["/nonexistent"])
        #expect(none.maplibre == nil && none.styles == nil)
        #expect(none.missingMaplibre.contains("/nonexistent") && none.missingMaplibre.contains("make vendor"))
    }
}
