import ArgumentParser
import Conflicts
import Foundation
import GeoCore
import LayerStore
import VectorIO

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "A land-use layer's topology: 图斑 that overlap, and gaps inside the city no 图斑 covers.",
        discussion: "`onemap load` reports the same for every land-use layer it loads (unless --no-topology).")
    enum Format: String, ExpressibleByArgument { case json, geojson }
    @Argument(help: "The land-use layer.") var layer: String
    @Option(help: "Smallest overlap or gap reported, m².") var minArea = 1.0
    @Option(help: "Output format: json or geojson.") var format: Format = .json
    @Option(help: "Also write the overlaps and gaps, with their shapes, to this GeoPackage (layer 'topology').") var gpkg: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try await database.open()
        let report = try LandUseTopology(store: store).run(layer: layer, minimumAreaM2: minArea, for: .localUser)
        FileHandle.standardError.write(Data((report.line + "\n").utf8))
        if let gpkg { try TopologyOutput.write([report], toGeoPackage: gpkg) }
        switch format {
        case .geojson:
            var w = GeoJSONWriter()
            w.raw("{\"type\":\"FeatureCollection\",\"features\":[")
            for (i, f) in report.findings.enumerated() {
                if i > 0 { w.raw(",") }
                w.feature(
                    f.geometry,
                    properties: [("kind", f.kind), ("ids", f.ids.joined(separator: ",")), ("county", f.county ?? ""), ("areaM2", f.areaM2)])
            }
            w.raw("]}")
            FileHandle.standardOutput.write(Data((w.text + "\n").utf8))
        case .json:
            try Terminal.printJSON(report.summary)
        }
    }
}

enum TopologyOutput {
    /// The findings of one or more land-use layers, with their shapes, as one GeoPackage layer
    /// 'topology' (kind, the 图斑 ids, county, area, and the land-use layer they belong to).
    static func write(_ reports: [LandUseTopology.Report], toGeoPackage path: String) throws {
        let fields =
            ["kind", "ids", "county"].map { FieldDefinition(name: $0, type: .text) } + [
                FieldDefinition(name: "area_m2", type: .real), FieldDefinition(name: "layer", type: .text)
            ]
        let w = try VectorWriter(
            path: path, format: .geoPackage, layerName: "topology", crs: "EPSG:4490", geometryType: "MultiPolygon", fields: fields)
        for report in reports {
            for f in report.findings {
                let g: Geometry = if case .polygon(let p) = f.geometry { .multiPolygon([p]) } else { f.geometry }
                try w.write(
                    geometry: g,
                    attributes: [
                        .text(f.kind), .text(f.ids.joined(separator: ",")), f.county.map { .text($0) } ?? .null, .real(f.areaM2),
                        .text(report.layer)
                    ])
            }
        }
        try w.close()
    }
}
