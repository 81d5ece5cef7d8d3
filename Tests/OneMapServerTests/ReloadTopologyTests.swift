import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing

@testable import OneMapServer

/// An admin's reload of a land-use layer answers with its topology, as `onemap load` prints it,
/// unless asked not to.
struct ReloadTopologyTests {
    @Test func reloadOfALandUseLayerReportsItsTopology() async throws {
        let dir = NSTemporaryDirectory() + "onemap-reload-topology-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func feature(_ id: String, _ x0: Double, _ x1: Double) -> String {
            #"{"type":"Feature","properties":{"BSM":"\#(id)","DLBM":"0101","KCDLBM":"1203","KCXS":0},"#
                + #""geometry":{"type":"Polygon","coordinates":[[[\#(x0),28],[\#(x1),28],[\#(x1),28.01],[\#(x0),28.01],[\#(x0),28]]]}}"#
        }
        // T1 over T2 by a strip 0.001° wide.
        let path = dir + "/landuse.geojson"
        try #"{"type":"FeatureCollection","features":[\#(feature("T1", 120.000, 120.006)),\#(feature("T2", 120.005, 120.012))]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let store = try Store(path: dir + "/onemap.sqlite")
        _ = try LayerImporter(store: store).load(
            LayerSpec(name: "landuse", title: "地类图斑", kind: .landUse, source: path, idField: "BSM", landUse: LandUseFields(onError: .fail)))
        let admin = try KeyRing(store: store).create(role: .admin, name: "ops").secret
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let reloaded = try await client.execute(
                uri: "/v1/layers/landuse/reload", method: .post, headers: [.authorization: "Bearer \(admin)"])
            #expect(reloaded.status == .created)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: reloaded.body)) as? [String: Any])
            #expect(body["layer"] as? String == "landuse" && body["version"] as? Int == 2)
            let topology = try #require(body["topology"] as? [String: Any])
            let overlaps = try #require(topology["overlaps"] as? [String: Any])
            #expect(overlaps["count"] as? Int == 1 && (overlaps["items"] as? [[String: Any]])?.first?["ids"] as? [String] == ["T1", "T2"])
            #expect((topology["boundary"] as? String)?.hasPrefix("none") == true, "no admin layer: gaps not looked for")

            let skipped = try await client.execute(
                uri: "/v1/layers/landuse/reload?topology=false", method: .post, headers: [.authorization: "Bearer \(admin)"])
            #expect(skipped.status == .created)
            let plain = try #require(try JSONSerialization.jsonObject(with: Data(buffer: skipped.body)) as? [String: Any])
            #expect(plain["version"] as? Int == 3 && plain["topology"] == nil)
            let wrong = try await client.execute(
                uri: "/v1/layers/landuse/reload?topology=no", method: .post, headers: [.authorization: "Bearer \(admin)"])
            #expect(wrong.status == .badRequest, "before anything is loaded")
        }
    }
}
