import ArgumentParser
import Conflicts
import Foundation
import LayerStore
import PostGISStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load one source (any GDAL vector format) as a new version of a layer, or as a new layer.",
        discussion: """
            For a layer that exists, the file becomes its next version under the layer's stored definition \
            (title, kind, id field, access, rule). --title, --kind and --id-field that contradict it are refused \
            unless --redefine is given, which is recorded with the version.
            """)

    @Argument(help: "The source file: GeoJSON, Shapefile, GeoPackage, or anything GDAL reads.") var source: String
    @Option(help: "The layer name to store it as ([a-z0-9_]+).") var layer: String
    @Option(help: "The layer's title (a new layer's default: the name).") var title: String?
    @Option(help: "The layer's kind (a new layer's default: other).") var kind: String?
    @Option(help: "The layer inside a multi-layer source.") var sourceLayer: String?
    @Option(help: "Override the source's CRS, e.g. EPSG:4528.") var sourceCrs: String?
    @Option(help: "Attribute encoding for sources that declare none, e.g. GBK.") var encoding: String?
    @Option(help: "The stable feature id field (a new layer's default: the source FID).") var idField: String?
    @Flag(help: "Let --title, --kind and --id-field replace the layer's stored definition (recorded with the version).")
    var redefine = false
    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("version"), help: "Label for the new version (default: the load time).") var versionLabel: String?
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        guard LayerName.isValid(layer) else {
            throw ValidationError("--layer '\(layer)' must match \(LayerName.pattern)")
        }
        if let kind, LayerKind(rawValue: kind) == nil {
            throw ValidationError("--kind '\(kind)' is not one of: \(LayerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let path = URL(fileURLWithPath: source).standardizedFileURL.path
        let request = ImportRequest(
            name: layer, source: path, sourceLayer: sourceLayer, sourceCRS: sourceCrs, encoding: encoding,
            title: title, kind: kind.flatMap(LayerKind.init(rawValue:)), idField: idField, redefine: redefine)
        if let location = try database.upstream() { return try await importIntoPostGIS(request, into: location) }
        let store = try Store(path: database.target)
        let spec = try request.spec(stored: try store.definition(of: layer))
        let importer = LayerImporter(store: store, progress: json ? nil : Terminal.progressBar(label: layer))
        var report = try importer.load(spec, label: versionLabel, authority: request.authority)
        // As `onemap load` does: the 地类 under the farmland parcels, for checks.
        let (parcelLandUse, warning) = ParcelLandUse.afterLoading(spec.kind, store: store)
        if let warning { report.warnings.append(warning) }
        if json {
            try Terminal.printJSON(LoadReport(report: report, topology: nil, parcelLandUse: parcelLandUse))
        } else {
            ImportOutput.print(report)
            if let parcelLandUse { print("  \(parcelLandUse.line)") }
        }
    }

    /// The file as a new version in a PostGIS database, under the definition stored there.
    func importIntoPostGIS(_ request: ImportRequest, into location: PostGISLocation) async throws {
        let report = try await PostGISDatabase.with(location) { db in
            let spec = try request.spec(stored: try await db.definition(of: layer))
            let importer = PostGISImporter(database: db, progress: json ? nil : Terminal.progressBar(label: layer))
            return try await importer.load(spec, label: versionLabel, authority: request.authority)
        }
        if json {
            try Terminal.printJSON(LoadReport(report: report, topology: nil, parcelLandUse: nil))
        } else {
            ImportOutput.print(report)
        }
    }
}
