import Foundation
import GeoCore
import LayerStore
import VectorIO

/// Builds small source files of every supported format in a fresh temporary folder.
struct Fixtures {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    func store() throws -> Store { try Store(path: path("test.sqlite")) }

    /// A square of `size` degrees with its south-west corner at (lon, lat).
    static func square(_ lon: Double, _ lat: Double, _ size: Double) -> Geometry {
        .polygon(
            Polygon([
                [
                    Coordinate(lon, lat), Coordinate(lon + size, lat), Coordinate(lon + size, lat + size),
                    Coordinate(lon, lat + size), Coordinate(lon, lat)
                ]
            ]))
    }

    static let farmlandFields = [
        FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text),
        FieldDefinition(name: "TBMJ", type: .real)
    ]

    /// GeoJSON parcels near Lishui, ids P1…Pn.
    func geoJSON(_ name: String, count: Int, ids: ((Int) -> String)? = nil, geometry: ((Int) -> Geometry)? = nil) throws -> String {
        let p = path(name)
        let w = try VectorWriter(
            path: p, format: .geoJSON, layerName: "parcels", crs: "EPSG:4490",
            geometryType: "Polygon", fields: Self.farmlandFields)
        for i in 0..<count {
            let g = geometry?(i) ?? Self.square(119.9 + Double(i) * 0.001, 28.4, 0.0005)
            try w.write(geometry: g, attributes: [.text(ids?(i) ?? "P\(i + 1)"), .text("水田"), .real(1.5)])
        }
        try w.close()
        return p
    }
}
