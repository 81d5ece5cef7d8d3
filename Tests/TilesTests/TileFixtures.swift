import Foundation
import GeoCore
import LayerStore
import VectorIO

/// Small layers near 120°E 28°N (Lishui), loaded into a fresh store.
struct TileFixtures {
    let dir: String
    let store: Store

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-tiles-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try Store(path: dir + "/test.sqlite")
    }

    static func box(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> [Coordinate] {
        [Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]
    }

    /// Writes features to GeoJSON and loads them (a new version each time).
    @discardableResult
    func layer(
        _ name: String, kind: LayerKind = .farmland, access: Access = .public, geometryType: String = "Polygon",
        fields: [FieldDefinition] = [FieldDefinition(name: "BSM", type: .text)],
        _ features: [(Geometry, [AttributeValue])]
    ) throws -> ImportReport {
        let path = "\(dir)/\(name)-\(UUID().uuidString).geojson"
        let w = try VectorWriter(
            path: path, format: .geoJSON, layerName: name, crs: "EPSG:4490", geometryType: geometryType, fields: fields)
        for (g, values) in features { try w.write(geometry: g, attributes: values) }
        try w.close()
        return try LayerImporter(store: store).load(
            LayerSpec(
                name: name, title: name, kind: kind, source: path,
                idField: fields.first?.name, access: access))
    }

    /// `count` parcels of 30–90 m on a jittered grid around (120.0, 28.0), about half the
    /// ground covered; every fifth has a hole and every seventh is a rotated quadrilateral.
    static func denseParcels(count: Int, seed: UInt64 = 7) -> [(Geometry, [AttributeValue])] {
        var rng = SplitMix(seed)
        let side = Int(Double(count).squareRoot().rounded(.up))
        let step = 0.0009  // ~90 m of latitude
        var out: [(Geometry, [AttributeValue])] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let gx = Double(i % side), gy = Double(i / side)
            let x0 = 120.0 + gx * step * 1.13 + rng.next() * 0.0001, y0 = 28.0 + gy * step + rng.next() * 0.0001
            let w = step * (0.35 + 0.6 * rng.next()) * 1.13, h = step * (0.35 + 0.6 * rng.next())
            var exterior: [Coordinate]
            if i % 7 == 3 {
                exterior = [
                    Coordinate(x0 + w * 0.2, y0), Coordinate(x0 + w, y0 + h * 0.15), Coordinate(x0 + w * 0.85, y0 + h),
                    Coordinate(x0, y0 + h * 0.8), Coordinate(x0 + w * 0.2, y0)
                ]
            } else {
                exterior = box(x0, y0, x0 + w, y0 + h)
                // A wiggly edge: more vertices, as surveyed parcels have.
                let wiggle = (0..<6).map { k in Coordinate(x0 + w * Double(k + 1) / 7, y0 + h + (rng.next() - 0.5) * h * 0.1) }
                exterior = [exterior[0], exterior[1], exterior[2]] + wiggle.reversed() + [exterior[3], exterior[4]]
            }
            var rings = [exterior]
            if i % 5 == 0 {
                rings.append(box(x0 + w * 0.4, y0 + h * 0.4, x0 + w * 0.55, y0 + h * 0.6).reversed())
            }
            out.append(
                (.polygon(Polygon(rings)), [.text(String(format: "P%06d", i)), .text(["水田", "旱地", "水浇地"][i % 3]), .real(w * h * 1e10)]))
        }
        return out
    }

    static let parcelFields = [
        FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text),
        FieldDefinition(name: "TBMJ", type: .real)
    ]
}

/// Deterministic numbers in [0, 1).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
