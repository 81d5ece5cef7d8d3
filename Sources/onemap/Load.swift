import ArgumentParser
import Foundation
import LayerStore

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the layer catalog (Layers/*.yaml) into the database, one new version per layer.")

    @Option(help: "The catalog folder.") var catalog = "Layers"
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(name: .customLong("version"), help: "Label for the new versions (default: the load time).") var versionLabel: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        var specs = try Catalog.load(directory: catalog).layers
        if let layers {
            let wanted = layers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            let known = Set(specs.map(\.name))
            if let missing = wanted.first(where: { !known.contains($0) }) {
                throw StoreError.unknownLayer(missing, known: specs.map(\.name))
            }
            specs = specs.filter { wanted.contains($0.name) }
        }
        let store = try Store(path: Store.resolvePath(database.db))
        var reports: [ImportReport] = []
        for spec in specs {
            let importer = LayerImporter(store: store, progress: json ? nil : Terminal.progressBar(label: spec.name))
            let report = try importer.load(spec, label: versionLabel)
            reports.append(report)
            if !json { ImportOutput.print(report) }
        }
        if json { try Terminal.printJSON(reports) }
    }
}

enum ImportOutput {
    static func print(_ r: ImportReport) {
        Swift.print(
            "\(r.layer): \(r.count) \(r.geometryType) features as version \(r.version) (\(r.label)) in \(String(format: "%.1f", r.seconds)) s; CRS \(r.sourceCRS); text \(r.encoding)"
        )
        if r.repaired > 0 {
            Swift.print("  repaired \(r.repaired) invalid geometries with MakeValid:")
            for line in r.repairs { Swift.print("    \(line)") }
            if r.repaired > r.repairs.count { Swift.print("    … and \(r.repaired - r.repairs.count) more") }
        }
        for w in r.warnings { Swift.print("  warning: \(w)") }
    }
}
