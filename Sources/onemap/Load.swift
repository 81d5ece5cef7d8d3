import ArgumentParser
import Conflicts
import Foundation
import LayerStore
import PostGISStore

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the layer catalog (Layers/*.yaml) into the database, one new version per layer.")

    @Option(help: "The catalog folder.") var catalog = "Layers"
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(name: .customLong("version"), help: "Label for the new versions (default: the load time).") var versionLabel: String?
    @Flag(help: "Machine-readable output.") var json = false
    @Flag(
        help: """
            Skip the topology report of land-use layers (overlapping 图斑, gaps inside the counties of the admin layer; \
            minutes at a city's millions of 图斑, see README).
            """)
    var noTopology = false
    @Option(help: "Also write the land-use layers' overlaps and gaps, with their shapes, to this GeoPackage (layer 'topology').")
    var topologyGpkg: String?

    func validate() throws {
        if noTopology && topologyGpkg != nil { throw ValidationError("--topology-gpkg asks for the report that --no-topology skips") }
    }

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
        if let location = try database.upstream() { return try await loadIntoPostGIS(specs, into: location) }
        let store = try Store(path: database.target)
        var reports: [ImportReport] = []
        for spec in specs {
            let importer = LayerImporter(store: store, progress: json ? nil : Terminal.progressBar(label: spec.name))
            let report = try importer.load(spec, label: versionLabel)
            reports.append(report)
            if !json { ImportOutput.print(report) }
        }
        // After every layer of the catalog is in: the gaps are looked for inside the admin
        // layer's counties, which may load after the land use. The versions are committed
        // already; the report says where they are not wall to wall, it does not refuse them.
        var topologies: [String: LandUseTopology.Report] = [:]
        if !noTopology {
            for spec in specs where spec.kind == .landUse {
                do {
                    let topology = try LandUseTopology(store: store).run(layer: spec.name, for: .localUser)
                    topologies[spec.name] = topology
                    if !json { print("  topology: \(topology.line)") }
                } catch {
                    let warning = "the topology report failed: \(error)"
                    if let i = reports.firstIndex(where: { $0.layer == spec.name }) { reports[i].warnings.append(warning) }
                    if !json { print("  warning: \(spec.name): \(warning)") }
                }
            }
            if let topologyGpkg {
                try TopologyOutput.write(specs.compactMap { topologies[$0.name] }, toGeoPackage: topologyGpkg)
            }
        }
        // The 地类 under each farmland parcel, which checks' farmland by 地类 reads (see
        // ParcelLandUse); checks overlay the parcels instead where it is missing.
        var parcelLandUse: ParcelLandUse.Report? = nil
        if let changed = specs.first(where: { $0.kind == .farmland || $0.kind == .landUse }) {
            let (report, warning) = ParcelLandUse.afterLoading(changed.kind, store: store)
            parcelLandUse = report
            if !json, let report { print("  \(report.line)") }
            if let warning {
                if let i = reports.firstIndex(where: { $0.layer == changed.name }) { reports[i].warnings.append(warning) }
                if !json { print("  warning: \(changed.name): \(warning)") }
            }
        }
        if json {
            try Terminal.printJSON(
                reports.map { r in
                    LoadReport(
                        report: r, topology: topologies[r.layer]?.summary,
                        parcelLandUse: [parcelLandUse?.farmland, parcelLandUse?.landUse].contains(r.layer) ? parcelLandUse : nil)
                })
        }
    }
}

extension Load {
    /// The catalog into a PostGIS database: each layer a new version, as into SpatiaLite. The
    /// land-use topology report is not made there yet; replicas work out the farmland's 地类
    /// table from their copies.
    func loadIntoPostGIS(_ specs: [LayerSpec], into location: PostGISLocation) async throws {
        let reports = try await PostGISDatabase.with(location) { db in
            var reports: [ImportReport] = []
            for spec in specs {
                let importer = PostGISImporter(database: db, progress: json ? nil : Terminal.progressBar(label: spec.name))
                var report = try await importer.load(spec, label: versionLabel)
                if spec.kind == .landUse && !noTopology {
                    report.warnings.append("the topology report is not made on PostgreSQL yet: load into a SpatiaLite file for it")
                }
                reports.append(report)
                if !json { ImportOutput.print(report) }
            }
            return reports
        }
        if json { try Terminal.printJSON(reports.map { LoadReport(report: $0, topology: nil, parcelLandUse: nil) }) }
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
