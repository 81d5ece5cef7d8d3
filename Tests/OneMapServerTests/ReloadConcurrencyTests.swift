import Foundation
import GRDB
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing
import VectorIO

@testable import OneMapServer

/// Checks and tiles keep being answered, correctly, while an admin reloads the layer they
/// read; each answer is wholly the old version or wholly the new one.
struct ReloadConcurrencyTests {
    /// Version 2 of the farmland: the parcel under the test site is renamed (P → NEWQ), and
    /// thousands of parcels elsewhere make the import last long enough to overlap requests.
    static func writeVersion2(over path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let w = try VectorWriter(
            path: path, format: .geoJSON, layerName: "farmland", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text)])
        try w.write(
            geometry: .polygon(
                Polygon([
                    [
                        Coordinate(120, 28), Coordinate(120.001, 28), Coordinate(120.001, 28.001),
                        Coordinate(120, 28.001), Coordinate(120, 28)
                    ]
                ])), attributes: [.text("NEWQ"), .text("水田")])
        for i in 0..<20_000 {
            let x = 119.0 + Double(i % 200) * 0.002, y = 27.0 + Double(i / 200) * 0.002
            try w.write(
                geometry: .polygon(
                    Polygon([
                        [
                            Coordinate(x, y), Coordinate(x + 0.001, y), Coordinate(x + 0.001, y + 0.001),
                            Coordinate(x, y + 0.001), Coordinate(x, y)
                        ]
                    ])),
                attributes: [.text("F\(i)"), .text("旱地")])
        }
        try w.close()
    }

    @Test func checksAndTilesDuringAReloadSeeOneVersionOrTheOther() async throws {
        let store = try farmlandStore()
        let admin = try KeyRing(store: store).create(role: .admin, name: "ops").secret
        let source = try store.layer(named: "farmland").version.source
        try Self.writeVersion2(over: source)
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let reloaded = Latch()
            let reload = Task {
                defer { reloaded.release() }
                return try await client.execute(
                    uri: "/v1/layers/farmland/reload?version=v2", method: .post,
                    headers: [.authorization: "Bearer \(admin)"])
            }
            var seen: [String: Int] = [:]
            var tilesSeen: [String: Int] = [:]
            var checkIDs: [(id: String, feature: String)] = []
            // Until the reload answers, and a few rounds after it.
            var after = 0
            while after < 3 {
                let done = reloaded.isOpen
                let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
                #expect(r.status == .created)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let layer = try #require((body["layers"] as? [[String: Any]])?.first { $0["layer"] as? String == "farmland" })
                // The reload is a new version of the same layer: its rule holds in every answer.
                #expect(body["verdict"] as? String == "forbidden" && layer["severity"] as? String == "forbidden")
                let ids = (layer["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(ids == ["P"] || ids == ["NEWQ"], "a check saw \(ids)")
                seen[ids.joined(separator: ","), default: 0] += 1
                checkIDs.append((try #require(body["id"] as? String), ids.first ?? ""))

                let t = try await client.execute(uri: "/tiles/farmland/16/54613/27454.mvt", method: .get)
                #expect(t.status == .ok)
                // MVT string values are field 1 of a Value: 0x0A, the length, the bytes.
                let bytes = Data(t.body.readableBytesView)
                let old = bytes.range(of: Data([0x0A, 0x01]) + Data("P".utf8)) != nil
                let new = bytes.range(of: Data([0x0A, 0x04]) + Data("NEWQ".utf8)) != nil
                #expect(old != new, "a tile holds old: \(old), new: \(new)")
                tilesSeen[new ? "new" : "old", default: 0] += 1
                if done { after += 1 }
            }
            let answer = try await reload.value
            #expect(answer.status == .created)
            // The first rounds ran during the reload (it takes seconds; a round, milliseconds),
            // and the last rounds after it: both versions were seen.
            // (A tile may come after the commit even when the check before it did not, on a
            // busy machine; one old answer of either kind shows the overlap.)
            #expect(seen["P", default: 0] + tilesSeen["old", default: 0] >= 1, "\(seen) \(tilesSeen)")
            #expect(seen["NEWQ", default: 0] >= 3 && tilesSeen["new", default: 0] >= 3)
            // Each record's stored versions agree with what its answer showed.
            for (id, feature) in checkIDs {
                let versions = try await store.pool.read { db in
                    try String.fetchOne(db, sql: "SELECT layer_versions FROM onemap_checks WHERE id = ?", arguments: [id])
                }
                let text = try #require(versions)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                let v = try #require((json["farmland"] as? [String: Any])?["version"] as? Int)
                #expect(v == (feature == "P" ? 1 : 2), "check \(id) saw \(feature) but recorded version \(v)")
            }
            // Only an admin reloads.
            let denied = try await client.execute(uri: "/v1/layers/farmland/reload", method: .post)
            #expect(denied.status == .unauthorized)
            // A label already used is a conflict, a blank one unprocessable; neither loads anything.
            let adminHeaders: HTTPFields = [.authorization: "Bearer \(admin)"]
            #expect(
                try await client.execute(uri: "/v1/layers/farmland/reload?version=v2", method: .post, headers: adminHeaders).status
                    == .conflict)
            for blank in ["", "%20%20", "a%0Ab"] {
                let r = try await client.execute(uri: "/v1/layers/farmland/reload?version=\(blank)", method: .post, headers: adminHeaders)
                #expect(r.status == .unprocessableContent, "'\(blank)'")
            }
            let versions = try await client.execute(uri: "/v1/layers/farmland/versions", method: .get)
            #expect(
                (try JSONSerialization.jsonObject(with: Data(buffer: versions.body)) as? [Any])?.count == 2,
                "\(String(buffer: versions.body))")
        }
    }
}

/// A reload of a layer defined in the catalog reads its YAML again: the edited source is the
/// new version, and the YAML's rule is the rule of every check during and after it.
struct CatalogReloadTests {
    @Test func checksDuringAndAfterACatalogReloadKeepTheRule() async throws {
        let store = try farmlandStore()
        let admin = try KeyRing(store: store).create(role: .admin, name: "ops").secret
        let dir = (try store.layer(named: "farmland").version.source as NSString).deletingLastPathComponent
        let v2 = dir + "/farmland_2026.geojson"
        try ReloadConcurrencyTests.writeVersion2(over: v2)
        let yaml = dir + "/farmland.yaml"
        try """
        name: farmland
        title: 永久基本农田
        kind: farmland
        source: farmland_2026.geojson
        id_field: BSM
        rule:
          severity: forbidden
          when: inside
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        // The layer as `onemap load` defines it, before the catalog's source changes.
        var first = try Catalog.parse(file: yaml)
        first.source = try store.layer(named: "farmland").version.source
        _ = try LayerImporter(store: store).load(first, label: "2025年度")
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let reload = Task {
                try await client.execute(
                    uri: "/v1/layers/farmland/reload?version=2026年度变更", method: .post,
                    headers: [.authorization: "Bearer \(admin)"])
            }
            var verdicts: [String] = []
            var versions: Set<String> = []
            while verdicts.count < 200 {
                let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
                let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let farmland = (body["layers"] as? [[String: Any]])?.first { $0["layer"] as? String == "farmland" }
                verdicts.append(body["verdict"] as? String ?? "none")
                versions.insert(farmland?["versionLabel"] as? String ?? "missing")
                if versions.contains("2026年度变更") { break }
            }
            let answer = try await reload.value
            #expect(answer.status == .created, "\(String(buffer: answer.body))")
            #expect(Set(verdicts) == ["forbidden"], "\(verdicts)")
            #expect(versions.isSubset(of: ["2025年度", "2026年度变更"]), "\(versions)")
            let after = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: after.body)) as? [String: Any])
            #expect(body["verdict"] as? String == "forbidden")
            let layers = try await client.execute(uri: "/v1/layers", method: .get)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(buffer: layers.body)) as? [[String: Any]])
            let rule = list.first { $0["name"] as? String == "farmland" }?["rule"] as? [String: Any]
            #expect(rule?["summary"] as? String == "forbidden inside")
        }
        // The version's record says which definition it was loaded under.
        let latest = try #require(try store.versions(of: "farmland").last)
        #expect(latest.label == "2026年度变更" && latest.rule == "forbidden inside")
    }
}

/// Many requests of every kind at once, more than the cooperative pool has threads: all must
/// be answered. A sync database read on a request thread once deadlocked here: the threads
/// waited for pool readers that only those threads could release.
struct ConcurrentMixTests {
    @Test func aBurstOfMixedRequestsIsAllAnswered() async throws {
        let store = try storeWithRestrictedLayer()
        let viewer = try KeyRing(store: store).create(role: .viewer, name: nil).secret
        // Room in the work queue for the whole burst: this is about every request being
        // answered, not about the gate turning some away.
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true, limits: .init(maxQueuedWork: 240)))
        try await app.test(.router) { client in
            let requests: [(String, HTTPRequest.Method, String?)] = (0..<240).map { i in
                switch i % 6 {
                case 0: return ("/tiles/onemap/\(12 + i % 5)/\(Self.tileX(12 + i % 5))/\(Self.tileY(12 + i % 5)).mvt", .get, nil)
                case 1: return ("/collections/farmland/items?bbox=119.99,27.99,120.01,28.01", .get, nil)
                case 2: return ("/v1/identify?lon=120.0005&lat=28.0005", .get, nil)
                case 3: return ("/v1/checks", .post, siteOverP)
                case 4: return ("/tiles/secret.json", .get, nil)
                default: return ("/v1/layers", .get, nil)
                }
            }
            // Answers are collected with a deadline of their own, so a hang fails the test.
            let statuses = try await Deadline(seconds: 300).run {
                try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                    for (i, (uri, method, body)) in requests.enumerated() {
                        group.addTask {
                            let headers: HTTPFields = i % 4 == 0 ? [.authorization: "Bearer \(viewer)"] : [:]
                            let r = try await client.execute(
                                uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                            return (i, Int(r.status.code))
                        }
                    }
                    var all: [(Int, Int)] = []
                    for try await s in group { all.append(s) }
                    return all.sorted { $0.0 < $1.0 }.map(\.1)
                }
            }
            #expect(statuses.count == requests.count)
            // Everything succeeds but the restricted TileJSON asked for without a key.
            #expect(statuses.filter { $0 >= 500 }.isEmpty, "\(zip(requests.map(\.0), statuses).filter { $0.1 >= 300 }.prefix(12))")
            #expect(statuses.filter { $0 == 404 }.count == 20)
        }
    }

    static func tileX(_ z: Int) -> Int { Int((120.0005 + 180) / 360 * Double(1 << z)) }
    static func tileY(_ z: Int) -> Int {
        let lat = 28.0005 * Double.pi / 180
        return Int((1 - log(tan(lat) + 1 / cos(lat)) / Double.pi) / 2 * Double(1 << z))
    }
}
