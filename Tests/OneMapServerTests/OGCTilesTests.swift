import Foundation
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

/// OGC API – Tiles: the tile matrix sets are the grids the tiles are cut on, and a tile found
/// through a tileset's links is the very tile of the z/x/y URL.
struct OGCTilesTests {
    let store: Store
    let viewer: String

    init() throws {
        store = try storeWithRestrictedLayer()
        viewer = try KeyRing(store: store).create(role: .viewer, name: "规划查询").secret
    }

    static func json(_ r: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
    }

    static func links(_ doc: [String: Any]) -> [[String: Any]] { doc["links"] as? [[String: Any]] ?? [] }

    static func href(_ doc: [String: Any], rel: String) throws -> String {
        try #require(links(doc).first { $0["rel"] as? String == rel }?["href"] as? String, "no \(rel) link")
    }

    /// The path of an absolute URL the server wrote.
    static func path(_ url: String) throws -> String {
        try #require(URLComponents(string: url)?.path.removingPercentEncoding)
    }

    @Test func theTileMatrixSetsAreTheGridsServed() async throws {
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let list = try Self.json(try await client.execute(uri: "/tileMatrixSets", method: .get))
            let ids = (list["tileMatrixSets"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            // The data's own grid first: a client not told which set takes the first.
            #expect(ids == ["CGCS2000Quad", "WebMercatorQuad"])

            // 天地图's _c matrix set: level 1 is 2 × 1 tiles of 0.703125° a pixel. Its scale is
            // OGC's, with the standard 0.28 mm pixel (天地图's capabilities say 2.958e8, with a
            // 96 dpi pixel): clients derive the cell size from it.
            let c = try Self.json(try await client.execute(uri: "/tileMatrixSets/CGCS2000Quad", method: .get))
            #expect(c["crs"] as? String == "http://www.opengis.net/def/crs/EPSG/0/4490")
            let cm = try #require(c["tileMatrices"] as? [[String: Any]])
            #expect(cm.count == 25)
            #expect(cm[1]["id"] as? String == "1" && cm[1]["matrixWidth"] as? Int == 2 && cm[1]["matrixHeight"] as? Int == 1)
            #expect(abs((cm[1]["cellSize"] as? Double ?? 0) - 0.703125) < 1e-15)
            #expect(abs((cm[1]["scaleDenominator"] as? Double ?? 0) / (0.703125 * .pi * 6378137 / 180 / 0.00028) - 1) < 1e-12)
            #expect(cm[1]["pointOfOrigin"] as? [Double] == [90, -180], "latitude first, as EPSG:4490 orders its axes")
            #expect(cm[0]["matrixHeight"] as? Int == 1 && cm[16]["matrixWidth"] as? Int == 65536 && cm[16]["matrixHeight"] as? Int == 32768)

            let w = try Self.json(try await client.execute(uri: "/tileMatrixSets/WebMercatorQuad", method: .get))
            #expect(w["uri"] as? String == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
            let wm = try #require(w["tileMatrices"] as? [[String: Any]])
            #expect(abs((wm[0]["scaleDenominator"] as? Double ?? 0) / 559082264.0287178 - 1) < 1e-12)
            #expect(abs((wm[0]["pointOfOrigin"] as? [Double] ?? [])[0] + 20037508.3427892) < 1e-6)
            // The 1.0 encoding's members, which GDAL 3.6 reads.
            #expect(w["identifier"] as? String == "WebMercatorQuad" && w["supportedCRS"] as? String == w["crs"] as? String)
            #expect(wm[3]["identifier"] as? String == "3" && wm[3]["topLeftCorner"] as? [Double] == wm[3]["pointOfOrigin"] as? [Double])

            let unknown = try await client.execute(uri: "/tileMatrixSets/WorldCRS84Quad", method: .get)
            #expect(unknown.status == .notFound && String(buffer: unknown.body).contains("CGCS2000Quad"))
        }
    }

    /// From the collection to its tilesets, to one tileset's templated link, to a tile: the
    /// same bytes and ETag as the z/x/y tile, on both grids; and the dataset's tile is the
    /// composite's.
    @Test func aTileFoundThroughTheLinksIsTheXYZTile() async throws {
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        // The farmland at 120.000, 28.000 at zoom 16: (column, row) on each grid.
        let cases: [(grid: String, xyz: String, col: Int, row: Int)] = [
            ("WebMercatorQuad", "/tiles/", 54613, 27454), ("CGCS2000Quad", "/tiles/4490/", 54613, 11286)
        ]
        try await app.test(.router) { client in
            let collection = try Self.json(try await client.execute(uri: "/collections/farmland", method: .get))
            let tilesets = try Self.path(try Self.href(collection, rel: "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"))
            let list = try Self.json(try await client.execute(uri: tilesets, method: .get))
            let sets = try #require(list["tilesets"] as? [[String: Any]])
            #expect((sets.first?["tileMatrixSetURI"] as? String)?.hasSuffix("CGCS2000Quad") == true)
            for c in cases {
                let entry = try #require(sets.first { ($0["tileMatrixSetURI"] as? String)?.hasSuffix(c.grid) == true }, "\(c.grid)")
                #expect(entry["dataType"] as? String == "vector")
                let tileset = try Self.json(try await client.execute(uri: try Self.path(try Self.href(entry, rel: "self")), method: .get))
                let scheme = try Self.href(tileset, rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme")
                #expect(scheme.hasSuffix("/tileMatrixSets/" + c.grid))
                // The data's tile is within the limits the tileset gives at its zoom.
                let limits = try #require(
                    (tileset["tileMatrixSetLimits"] as? [[String: Any]])?.first { $0["tileMatrix"] as? String == "16" })
                #expect((limits["minTileCol"] as? Int ?? .max) <= c.col && c.col <= (limits["maxTileCol"] as? Int ?? .min), "\(limits)")
                #expect((limits["minTileRow"] as? Int ?? .max) <= c.row && c.row <= (limits["maxTileRow"] as? Int ?? .min), "\(limits)")
                let template = try Self.href(tileset, rel: "item")
                let filled = try Self.path(template).replacingOccurrences(
                    of: "{tileMatrix}/{tileRow}/{tileCol}", with: "16/\(c.row)/\(c.col)")
                let ogc = try await client.execute(uri: filled, method: .get)
                let xyz = try await client.execute(uri: "\(c.xyz)farmland/16/\(c.col)/\(c.row).mvt", method: .get)
                #expect(ogc.status == .ok && xyz.status == .ok, "\(filled)")
                #expect(ogc.body == xyz.body && ogc.headers[.eTag] == xyz.headers[.eTag], "\(filled)")
                #expect(ogc.headers[.contentType] == "application/vnd.mapbox-vector-tile")

                let dataset = try await client.execute(uri: "/tiles/\(c.grid)/16/\(c.row)/\(c.col)", method: .get)
                let composite = try await client.execute(uri: "\(c.xyz)onemap/16/\(c.col)/\(c.row).mvt", method: .get)
                #expect(dataset.status == .ok && dataset.body == composite.body, "\(c.grid)")
            }
            // Past the matrix: not found; not a number: a bad request.
            #expect(try await client.execute(uri: "/collections/farmland/tiles/CGCS2000Quad/1/1/0", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/tiles/WebMercatorQuad/1/x/0", method: .get).status == .badRequest)
            let unknown = try await client.execute(uri: "/collections/farmland/tiles/WorldCRS84Quad", method: .get)
            #expect(unknown.status == .notFound && String(buffer: unknown.body).contains("unknown tile matrix set"))
            #expect(try await client.execute(uri: "/tiles/GoogleMapsCompatible/3/1/1", method: .get).status == .notFound)
        }
    }

    /// A restricted layer's tilesets exist only for a caller who may read it, and the OGC
    /// documents are declared and linked.
    @Test func restrictedTilesetsNeedAKeyAndTheClassesAreDeclared() async throws {
        let app = buildApplication(store: store, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/collections/secret/tiles", method: .get).status == .notFound)
            let key: HTTPFields = [.authorization: "Bearer \(viewer)"]
            let r = try await client.execute(uri: "/collections/secret/tiles/CGCS2000Quad", method: .get, headers: key)
            #expect(r.status == .ok && r.headers[.cacheControl] == "private, no-cache")

            let conformance = try Self.json(try await client.execute(uri: "/conformance", method: .get))
            let classes = Set(conformance["conformsTo"] as? [String] ?? [])
            for c in ["core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt"] {
                #expect(classes.contains("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/\(c)"), "\(c)")
            }
            let landing = try Self.json(try await client.execute(uri: "/?f=json", method: .get))
            #expect(
                try Self.path(try Self.href(landing, rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes")) == "/tileMatrixSets")
            #expect(try Self.path(try Self.href(landing, rel: "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")) == "/tiles")
        }
    }
}
