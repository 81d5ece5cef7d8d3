import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing
import VectorIO

@testable import Features

/// A small store near 120°E 28°N:
/// - `parcels`: a 10 × 10 grid of 0.001° squares, cell (i, j) = BSM "P{j}{i}" with x = 120 + i·0.001,
///   y = 28 + j·0.001; DLBM cycles 0101/0102/0103 by i; TBMJ = 100·(i + 1) + j; GJ = j (integer);
///   cell (9, 9) has a null DLMC. Plus a triangle "T" to the east whose box is twice its area.
/// - `pipes`: one line "G1" along y = 28.0105 from x = 120 to 120.01.
/// - `secret`: a restricted layer covering everything.
struct FeatureFixtures {
    let dir: String
    let store: Store

    static let origin = Coordinate(120, 28)
    static let cell = 0.001

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-features-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try Store(path: dir + "/test.sqlite")
        let fields = [
            FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLBM", type: .text),
            FieldDefinition(name: "DLMC", type: .text), FieldDefinition(name: "TBMJ", type: .real),
            FieldDefinition(name: "GJ", type: .integer)
        ]
        let parcels = dir + "/parcels.geojson"
        let w = try VectorWriter(
            path: parcels, format: .geoJSON, layerName: "parcels", crs: "EPSG:4490", geometryType: "Polygon", fields: fields)
        for j in 0..<10 {
            for i in 0..<10 {
                let codes = ["0101", "0102", "0103"]
                let name: AttributeValue = (i == 9 && j == 9) ? .null : .text(["水田", "水浇地", "旱地"][i % 3])
                try w.write(
                    geometry: .polygon(Self.square(i, j)),
                    attributes: [.text("P\(j)\(i)"), .text(codes[i % 3]), name, .real(Double(100 * (i + 1) + j)), .integer(Int64(j))])
            }
        }
        // A right triangle east of the grid: its lower-left half only.
        let t0 = Coordinate(120.02, 28.0), t1 = Coordinate(120.03, 28.0), t2 = Coordinate(120.02, 28.01)
        try w.write(
            geometry: .polygon(Polygon([[t0, t1, t2, t0]])),
            attributes: [.text("T"), .text("0101"), .text("it's \"quoted\""), .real(5), .integer(0)])
        try w.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(name: "parcels", title: "示例地块", kind: .farmland, source: parcels, idField: "BSM"))

        let pipes = dir + "/pipes.geojson"
        let p = try VectorWriter(
            path: pipes, format: .geoJSON, layerName: "pipes", crs: "EPSG:4490", geometryType: "LineString",
            fields: [FieldDefinition(name: "BSM", type: .text)])
        try p.write(geometry: .lineString([Coordinate(120, 28.0105), Coordinate(120.01, 28.0105)]), attributes: [.text("G1")])
        try p.close()
        _ = try LayerImporter(store: store).load(LayerSpec(name: "pipes", title: "管道", kind: .pipeline, source: pipes, idField: "BSM"))

        let secret = dir + "/secret.geojson"
        let s = try VectorWriter(
            path: secret, format: .geoJSON, layerName: "secret", crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "BSM", type: .text)])
        try s.write(
            geometry: .polygon(
                Polygon([
                    [
                        Coordinate(119.9, 27.9), Coordinate(120.1, 27.9), Coordinate(120.1, 28.1),
                        Coordinate(119.9, 28.1), Coordinate(119.9, 27.9)
                    ]
                ])), attributes: [.text("S1")])
        try s.close()
        _ = try LayerImporter(store: store).load(
            LayerSpec(
                name: "secret", title: "涉密", kind: .other, source: secret, idField: "BSM",
                access: .restricted))
    }

    static func square(_ i: Int, _ j: Int) -> Polygon {
        let x0 = origin.x + Double(i) * cell, y0 = origin.y + Double(j) * cell
        let x1 = x0 + cell, y1 = y0 + cell
        return Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]])
    }

    func app() -> some ApplicationProtocol {
        buildApplication(store: store, configuration: ServerConfiguration(open: true))
    }
}

/// A fixture shared by the tests of a file (building it loads three layers).
let sharedFixtures = Result { try FeatureFixtures() }

struct HTTPResult {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any], "not a JSON object: \(text.prefix(300))")
    }
    func features() throws -> [[String: Any]] { try #require(try json()["features"] as? [[String: Any]]) }
    func ids() throws -> [String] { try features().map { ($0["id"] as? String) ?? "?" } }
    /// The OGC exception code of an error answer.
    func code() throws -> String? { try json()["code"] as? String }
}

extension TestClientProtocol {
    func get(_ uri: String, accept: String? = nil) async throws -> HTTPResult {
        var headers: HTTPFields = [:]
        if let accept { headers[.accept] = accept }
        let r = try await execute(uri: uri, method: .get, headers: headers)
        return HTTPResult(status: r.status, headers: r.headers, body: Data(buffer: r.body))
    }
}

/// Percent-encodes a query value the way clients do.
func q(_ s: String) -> String {
    s.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? s
}
