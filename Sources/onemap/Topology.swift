import ArgumentParser
import Conflicts
import Foundation
import GeoCore
import LayerStore
import VectorIO

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "A land-use layer's topology: 图斑 that overlap, and gaps inside the city no 图斑 covers.")
    enum Format: String, ExpressibleByArgument { case json, geojson }
    @Argument(help: "The land-use layer.") var layer: String
    @Option(help: "Smallest overlap or gap reported, m².") var minArea = 1.0
    @Option(help: "Output format: json or geojson.") var format: Format = .json
    @Option(help: "Also write the overlaps and gaps, with their shapes, to this GeoPackage (layer 'topology').") var gpkg: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try Store(path: Store.resolvePath(database.db))
        let report = try LandUseTopology(store: store).run(layer: layer, minimumAreaM2: minArea, for: .localUser)
        FileHandle.standardError.write(
            Data(
                String(
                    format: "%@ #%d: %d overlaps (%.1f m²), %d gaps (%.1f m²) in %.1f s\n", report.layer, report.version,
                    report.overlaps.count, report.overlaps.reduce(0) { $0 + $1.areaM2 }, report.gaps.count,
                    report.gaps.reduce(0) { $0 + $1.areaM2 }, report.seconds
                ).utf8))
        if let gpkg {
            let fields =
                ["kind", "ids", "county"].map { FieldDefinition(name: $0, type: .text) } + [FieldDefinition(name: "area_m2", type: .real)]
            let w = try VectorWriter(
                path: gpkg, format: .geoPackage, layerName: "topology", crs: "EPSG:4490", geometryType: "MultiPolygon", fields: fields)
            for f in report.findings {
                let g: Geometry = if case .polygon(let p) = f.geometry { .multiPolygon([p]) } else { f.geometry }
                try w.write(
                    geometry: g,
                    attributes: [.text(f.kind), .text(f.ids.joined(separator: ",")), f.county.map { .text($0) } ?? .null, .real(f.areaM2)])
            }
            try w.close()
        }
        var w = GeoJSONWriter()
        switch format {
        case .geojson:
            w.raw("{\"type\":\"FeatureCollection\",\"features\":[")
            for (i, f) in report.findings.enumerated() {
                if i > 0 { w.raw(",") }
                w.feature(
                    f.geometry,
                    properties: [("kind", f.kind), ("ids", f.ids.joined(separator: ",")), ("county", f.county ?? ""), ("areaM2", f.areaM2)])
            }
            w.raw("]}")
        case .json:
            w.raw("{\"layer\":"); w.string(report.layer)
            w.raw(",\"version\":\(report.version),\"features\":\(report.features),\"boundary\":"); w.string(report.boundary)
            w.raw(",\"minimumAreaM2\":"); w.number(report.minimumAreaM2)
            for (key, list) in [("overlaps", report.overlaps), ("gaps", report.gaps)] {
                w.raw(",\"\(key)\":{\"count\":\(list.count),\"areaM2\":"); w.number(list.reduce(0) { $0 + $1.areaM2 })
                w.raw(",\"items\":[")
                for (i, f) in list.enumerated() {
                    if i > 0 { w.raw(",") }
                    w.raw("{\"ids\":[")
                    for (k, id) in f.ids.enumerated() {
                        if k > 0 { w.raw(",") }
                        w.string(id)
                    }
                    w.raw("],\"areaM2\":"); w.number(f.areaM2)
                    w.raw(",\"lon\":"); w.number(f.place.x)
                    w.raw(",\"lat\":"); w.number(f.place.y)
                    w.raw(",\"county\":")
                    if let c = f.county { w.string(c) } else { w.raw("null") }
                    w.raw("}")
                }
                w.raw("]}")
            }
            w.raw("}")
        }
        FileHandle.standardOutput.write(Data((w.text + "\n").utf8))
    }
}
