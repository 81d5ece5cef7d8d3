import ArgumentParser
import Foundation
import LayerStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load one source (any GDAL vector format) as a layer, without a catalog entry.")

    @Argument(help: "The source file: GeoJSON, Shapefile, GeoPackage, or anything GDAL reads.") var source: String
    @Option(help: "The layer name to store it as ([a-z0-9_]+).") var layer: String
    @Option(help: "The layer's title (default: the name).") var title: String?
    @Option(help: "The layer's kind.") var kind: String = "other"
    @Option(help: "The layer inside a multi-layer source.") var sourceLayer: String?
    @Option(help: "Override the source's CRS, e.g. EPSG:4528.") var sourceCrs: String?
    @Option(help: "Attribute encoding for sources that declare none, e.g. GBK.") var encoding: String?
    @Option(help: "The stable feature id field (default: the source FID).") var idField: String?
    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("version"), help: "Label for the new version (default: the load time).") var versionLabel: String?
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        guard layer.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw ValidationError("--layer '\(layer)' must match [a-z0-9_]+")
        }
        guard LayerKind(rawValue: kind) != nil else {
            throw ValidationError("--kind '\(kind)' is not one of: \(LayerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let path = URL(fileURLWithPath: source).standardizedFileURL.path
        let spec = LayerSpec(name: layer, title: title ?? layer, kind: LayerKind(rawValue: kind)!, source: path,
                             sourceLayer: sourceLayer, sourceCRS: sourceCrs, encoding: encoding, idField: idField)
        let store = try Store(path: Store.resolvePath(database.db))
        let importer = LayerImporter(store: store, progress: json ? nil : Terminal.progressBar(label: layer))
        let report = try importer.load(spec, label: versionLabel)
        if json { try Terminal.printJSON(report) } else { ImportOutput.print(report) }
    }
}
