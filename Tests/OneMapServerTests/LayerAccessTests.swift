import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing
import VectorIO

/// Adds a polygon layer of one feature per box to `store`: BSM, MC and level attributes.
func addBoxLayer(
    _ store: Store, name: String, kind: LayerKind, access: Access = .public, rule: Rule? = nil,
    _ boxes: [(minX: Double, minY: Double, maxX: Double, maxY: Double, id: String, name: String, level: String)]
) throws {
    let dir = (store.path as NSString).deletingLastPathComponent
    let path = dir + "/\(name).geojson"
    let w = try VectorWriter(
        path: path, format: .geoJSON, layerName: name, crs: "EPSG:4490", geometryType: "Polygon",
        fields: [
            FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "MC", type: .text),
            FieldDefinition(name: "level", type: .text)
        ])
    for b in boxes {
        let ring = [
            Coordinate(b.minX, b.minY), Coordinate(b.maxX, b.minY), Coordinate(b.maxX, b.maxY), Coordinate(b.minX, b.maxY),
            Coordinate(b.minX, b.minY)
        ]
        try w.write(geometry: .polygon(Polygon([ring])), attributes: [.text(b.id), .text(b.name), .text(b.level)])
    }
    try w.close()
    _ = try LayerImporter(store: store).load(
        LayerSpec(
            name: name, title: name, kind: kind, source: path, idField: "BSM",
            labelField: "MC", access: access, rule: rule))
}

/// Every route that names a layer answers a layer the caller may not see exactly as
/// one that does not exist (404, the same body), and nothing names a hidden layer.
struct LayerAccessTests {
    let store: Store
    let viewer: String
    /// Restricted: a second admin layer, and a layer the repository's styles draw.
    static let hiddenAdmin = "zz_admin", hiddenStyled = "water_source", unknown = "no_such_layer"

    init() throws {
        store = try farmlandStore()
        try addBoxLayer(store, name: "admin", kind: .admin, [(119.99, 27.99, 120.01, 28.01, "331102", "莲都区", "county")])
        try addBoxLayer(
            store, name: Self.hiddenAdmin, kind: .admin, access: .restricted,
            [(119.99, 27.99, 120.0005, 28.01, "S01", "涉密片区甲", "county"), (120.0005, 27.99, 120.01, 28.01, "S02", "涉密片区乙", "county")])
        try addBoxLayer(
            store, name: Self.hiddenStyled, kind: .other, access: .restricted, rule: Rule(severity: .restricted),
            [(120.0002, 28.0002, 120.0008, 28.0008, "W1", "一级保护区", "")])
        viewer = try KeyRing(store: store).create(role: .viewer, name: "规划查询").secret
    }

    func app(open: Bool = false) -> some ApplicationProtocol {
        buildApplication(store: store, configuration: ServerConfiguration(open: open))
    }

    /// The answer with the layer's name taken out, to compare answers about two names.
    static func answer(_ r: TestResponse, naming name: String) -> String {
        "\(r.status.code) " + String(buffer: r.body).replacingOccurrences(of: name, with: "<layer>")
    }

    @Test func hiddenAndUnknownLayersGetTheSameAnswerOnEveryRoute() async throws {
        let routes: [@Sendable (String) -> String] = [
            { "/v1/ledger?by=\($0)" },
            { "/v1/ledger?layers=\($0)" },
            { "/v1/audit?pairs=farmland:\($0)" },
            { "/v1/identify?lon=120.0005&lat=28.0005&layers=\($0)" },
            { "/v1/layers/\($0)/versions" },
            { "/v1/layers/\($0)/diff" },
            { "/tiles/\($0)/16/54613/27454.mvt" },
            { "/tiles/farmland,\($0)/16/54613/27454.mvt" },
            { "/tiles/\($0).json" },
            { "/collections/\($0)" },
            { "/collections/\($0)/items" },
            { "/styles/\($0).json" }
        ]
        try await app().test(.router) { client in
            for hidden in [Self.hiddenAdmin, Self.hiddenStyled] {
                for route in routes {
                    let r = try await client.execute(uri: route(hidden), method: .get)
                    let u = try await client.execute(uri: route(Self.unknown), method: .get)
                    #expect(r.status == .notFound, "\(route(hidden)): \(r.status) \(String(buffer: r.body).prefix(200))")
                    #expect(Self.answer(r, naming: hidden) == Self.answer(u, naming: Self.unknown), "\(route(hidden))")
                    #expect(!String(buffer: r.body).contains("涉密"), "\(route(hidden))")
                    // With a viewer key the layer is there (a diff needs two versions, a ledger
                    // counts by admin layers, and only some layers have a style of their own).
                    let uri = route(hidden)
                    let seen = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(viewer)"])
                    let applies = hidden == Self.hiddenAdmin ? !uri.hasPrefix("/styles") : !uri.contains("by=")
                    if !uri.contains("diff") && applies {
                        #expect(
                            seen.status.code < 300,
                            "\(route(hidden)) with a viewer key: \(seen.status) \(String(buffer: seen.body).prefix(200))")
                    }
                }
            }
        }
    }

    /// Anonymous `by=<a restricted admin layer>` answers 404: not its units, nor anything that
    /// tells the layer exists.
    @Test func theLedgerDoesNotCountByAHiddenAdminLayer() async throws {
        try await app().test(.router) { client in
            let hidden = try await client.execute(uri: "/v1/ledger?by=\(Self.hiddenAdmin)", method: .get)
            #expect(hidden.status == .notFound)
            #expect(!String(buffer: hidden.body).contains("S01") && !String(buffer: hidden.body).contains("涉密片区"))
            let county = try await client.execute(uri: "/v1/ledger?by=county", method: .get)
            #expect(county.status == .ok)
            #expect(String(buffer: county.body).contains("331102") && !String(buffer: county.body).contains("S01"))
            let withKey = try await client.execute(
                uri: "/v1/ledger?by=\(Self.hiddenAdmin)", method: .get, headers: [.authorization: "Bearer \(viewer)"])
            #expect(withKey.status == .ok && String(buffer: withKey.body).contains("S02"))
        }
    }

    @Test func stylesAndMetricsNameOnlyVisibleLayers() async throws {
        try await app().test(.router) { client in
            let anonymous = try await client.execute(uri: "/styles/onemap.json", method: .get)
            #expect(anonymous.status == .ok)
            #expect(!String(buffer: anonymous.body).contains(Self.hiddenStyled))
            #expect(String(buffer: anonymous.body).contains("farmland"))
            let viewer = try await client.execute(
                uri: "/styles/onemap.json", method: .get, headers: [.authorization: "Bearer \(self.viewer)"])
            #expect(String(buffer: viewer.body).contains(Self.hiddenStyled))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains(#"layer="farmland""#))
            #expect(!String(buffer: metrics.body).contains(Self.hiddenStyled) && !String(buffer: metrics.body).contains(Self.hiddenAdmin))
        }
    }

    /// A check reads every rule layer for whoever may post it, so its `layers=` knows them all;
    /// a name that is no layer is a 404 like everywhere else.
    @Test func aCheckOfAnUnknownLayerIs404() async throws {
        try await app(open: true).test(.router) { client in
            let r = try await client.execute(uri: "/v1/checks?layers=\(Self.unknown)", method: .post, body: ByteBuffer(string: siteOverP))
            #expect(r.status == .notFound)
            let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") }
            #expect(count == 0)
        }
    }
}
