import ArgumentParser
import Conflicts
import Dispatch
import Foundation
import GeoCore
import LandUse
import LayerStore
import VectorIO

/// `onemap check batch`: change patches (卫片执法 / 变更监测 图斑) checked each as its own site,
/// with a table per county and township beside the answers.
struct CheckBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Check every patch of a file as its own site (卫片执法 change patches), on every core.",
        discussion: """
            PATCHES is a GeoPackage, Shapefile or GeoJSON of polygons. The output keeps each patch's attributes and \
            adds its verdict (om_verdict), its area, the area each rule counts per layer (om_<layer>_m2: the overlap, \
            or for an `outside` rule the part outside), the land-use answer when a land-use layer is loaded (耕地 net \
            om_gd_net_m2, the three groups, each 一级类), and the county and township it lies in. A patch repaired \
            to be checked (a self-crossing ring) says so in om_warning; one that cannot be checked is a row with its \
            reason (om_error); neither stops the batch. Geometry is written \
            in CGCS2000 (EPSG:4490). Beside the output: <out>.summary.csv and <out>.summary.json, per county and \
            township. The file appears at --out only when complete.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case gpkg, geojson, csv }

    @Argument(help: "The patches: .gpkg, .shp or .geojson.") var patches: String
    @Option(help: "The output file.") var out: String
    @Option(help: "gpkg, geojson or csv (default: from --out's extension).") var format: Format?
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(help: "The field that names a patch (监测图斑编号, e.g. JCBH); default: the feature id.") var idField: String?
    @Option(help: "The CRS of a file that declares none (e.g. EPSG:4528).") var crs: String?
    @Option(help: "The layer of a multi-layer file (default: its first).") var layer: String?
    @OptionGroup var database: DatabaseOptions

    var resolvedFormat: Format? { format ?? Format(rawValue: (out as NSString).pathExtension.lowercased()) }

    func validate() throws {
        guard resolvedFormat != nil else { throw ValidationError("--out \(out): give a .gpkg, .geojson or .csv name, or --format") }
        guard FileManager.default.fileExists(atPath: patches) else { throw ValidationError("\(patches): no such file") }
    }

    func run() async throws {
        let store = try await database.open()
        let wanted = layers?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let columns = try BatchColumns(store: store, layers: wanted)
        let source: VectorSource
        do { source = try VectorSource(path: patches, layer: layer) } catch { throw ValidationError("\(patches): \(error)") }
        let batch = PatchBatch(checker: ConflictChecker(store: store, boxesInMemory: true), layers: wanted, caller: .localUser)
        let format = resolvedFormat!
        var summary = BatchSummary(columns: columns)
        let started = Date()
        let progress = Self.progressLine(started)
        try AtomicOutput.write(out) { partial in
            let writer = try BatchWriter(path: partial, format: format, source: source, columns: columns)
            try batch.run(source, idField: idField, crs: crs, progress: progress) { rows in
                for row in rows {
                    let values = columns.values(row)
                    try writer.write(row, values)
                    summary.add(row, values)
                }
            }
            try writer.close()
        }
        try summary.csv().write(to: URL(fileURLWithPath: out + ".summary.csv"))
        try summary.json().write(to: URL(fileURLWithPath: out + ".summary.json"))
        let seconds = -started.timeIntervalSinceNow
        FileHandle.standardError.write(
            Data(
                ("\r\u{1B}[K"
                    + String(
                        format: "checked %d patches in %.1f s (%.0f/s): %d forbidden, %d restricted, %d notice, %d clear, %d not checked\n",
                        summary.total.patches, seconds, Double(summary.total.patches) / max(seconds, 1e-9),
                        summary.total.verdicts["forbidden"] ?? 0,
                        summary.total.verdicts["restricted"] ?? 0, summary.total.verdicts["notice"] ?? 0,
                        summary.total.verdicts["clear"] ?? 0,
                        summary.total.failed)).utf8))
        print("wrote \(out), \(out).summary.csv and \(out).summary.json")
    }

    /// Patches done, per second and time left, on one terminal line; nothing when no one watches.
    static func progressLine(_ started: Date) -> (Int, Int?) -> Void {
        guard Terminal.stderrIsTTY else { return { _, _ in } }
        return { done, total in Terminal.rateLine("", done: done, total: total, unit: "patches", seconds: -started.timeIntervalSinceNow) }
    }
}

/// The columns a batch adds to each patch, decided before the first patch: one per layer with
/// a rule, and the land-use ones when a land-use layer is loaded.
struct BatchColumns {
    let ruleLayers: [String]
    let landUse: Bool
    let classes: [String]

    init(store: Store, layers wanted: [String]?) throws {
        let visible = try store.pool.read { db in try Caller.localUser.visibleLayers(db) }
        if let wanted {
            let names = Set(visible.map(\.name))
            for name in wanted where !names.contains(name) {
                throw ValidationError("--layers: no layer '\(name)' (there are \(names.sorted().joined(separator: ", ")))")
            }
        }
        let chosen = visible.filter { wanted?.contains($0.name) ?? true }
        ruleLayers = chosen.filter { $0.spec.rule != nil }.map(\.name).sorted()
        landUse = chosen.contains { $0.spec.kind == .landUse }
        classes = landUse ? LandClassification.standard.classes.keys.sorted() : []
    }

    /// The added fields, after the patch's own.
    var fields: [FieldDefinition] {
        var out = [
            FieldDefinition(name: "om_patch", type: .text), FieldDefinition(name: "om_verdict", type: .text),
            FieldDefinition(name: "om_area_m2", type: .real)
        ]
        out += ruleLayers.map { FieldDefinition(name: "om_\($0)_m2", type: .real) }
        if landUse {
            out += ["om_gd_net_m2", "om_nyd_net_m2", "om_jsyd_net_m2", "om_wlyd_net_m2"].map { FieldDefinition(name: $0, type: .real) }
            out += classes.map { FieldDefinition(name: "om_lu\($0)_net_m2", type: .real) }
        }
        out += ["om_county_code", "om_county", "om_township_code", "om_township", "om_warning", "om_error"].map {
            FieldDefinition(name: $0, type: .text)
        }
        return out
    }

    /// The added values of one patch, in `fields` order.
    func values(_ row: PatchBatch.Row) -> [AttributeValue] {
        let r = row.result
        var out: [AttributeValue] = [
            .text(row.patchId), r.map { .text($0.verdict.rawValue) } ?? .null, r.map { .real($0.site.areaM2) } ?? .null
        ]
        for name in ruleLayers {
            guard let l = r?.layers.first(where: { $0.layer == name }) else {
                out.append(.null)
                continue
            }
            out.append(.real(l.outsideAreaM2 ?? l.overlapAreaM2))
        }
        if landUse {
            let lu = r?.landUse
            func net(_ v: Double?) -> AttributeValue { r == nil ? .null : .real(v ?? 0) }
            out.append(net(lu?.byClass.first { $0.code == "01" }?.netM2))
            for group in LandGroup.allCases { out.append(net(lu?.byGroup[group.rawValue]?.netM2)) }
            for c in classes { out.append(net(lu?.byClass.first { $0.code == c }?.netM2)) }
        }
        let warnings = r.flatMap { $0.warnings.isEmpty ? nil : $0.warnings.joined(separator: "; ") }
        for text in [row.county?.code, row.county?.name, row.township?.code, row.township?.name, warnings, row.failure] {
            out.append(text.map { .text($0) } ?? .null)
        }
        return out
    }
}

/// The rows as GeoPackage or GeoJSON (through GDAL) or CSV (the centre's longitude and latitude
/// in place of the geometry, for a spreadsheet).
final class BatchWriter {
    private let vector: VectorWriter?
    private var csv: FileHandle?

    init(path: String, format: CheckBatch.Format, source: VectorSource, columns: BatchColumns) throws {
        // The patch's own fields keep their names; one that an added field has is left out.
        let added = Set(columns.fields.map { $0.name.lowercased() })
        keep = source.fields.map { !added.contains($0.name.lowercased()) }
        let fields = zip(source.fields, keep).filter(\.1).map(\.0) + columns.fields
        switch format {
        case .gpkg, .geojson:
            vector = try VectorWriter(
                path: path, format: format == .gpkg ? .geoPackage : .geoJSON, layerName: "patches", crs: "EPSG:4490",
                geometryType: "MultiPolygon", fields: fields)
        case .csv:
            vector = nil
            FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("\(path): cannot be written") }
            csv = handle
            handle.write(Data(("\u{FEFF}" + (fields.map(\.name) + ["lon", "lat"]).map(Self.quoted).joined(separator: ",") + "\r\n").utf8))
        }
    }

    /// Which of the source's attributes are written.
    private let keep: [Bool]

    func write(_ row: PatchBatch.Row, _ added: [AttributeValue]) throws {
        let own = zip(row.attributes, keep).filter(\.1).map(\.0)
        if let vector {
            let geometry = row.geometry.map { g -> Geometry in .multiPolygon(g.polygons) }
            try vector.write(geometry: geometry, attributes: own + added)
        } else if let csv {
            let b = row.geometry?.boundingBox
            let centre =
                b.map { [String((($0.minX + $0.maxX) / 2 * 1e7).rounded() / 1e7), String((($0.minY + $0.maxY) / 2 * 1e7).rounded() / 1e7)] }
                ?? ["", ""]
            let cells = (own + added).map(Self.cell) + centre
            csv.write(Data((cells.map(Self.quoted).joined(separator: ",") + "\r\n").utf8))
        }
    }

    func close() throws {
        try vector?.close()
        try csv?.close()
    }

    static func cell(_ v: AttributeValue) -> String {
        switch v {
        case .null: return ""
        case .integer(let n): return String(n)
        case .real(let d): return String(d)
        case .text(let s): return s
        }
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break. (The BOM above lets Excel
    /// on a Chinese Windows read the UTF-8.)
    static func quoted(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// Patches and areas per county and township, and for the whole batch.
struct BatchSummary {
    struct Tally: Codable {
        var county: String
        var countyCode: String
        var township: String
        var townshipCode: String
        var patches = 0
        var failed = 0
        var verdicts: [String: Int] = [:]
        var areaM2 = 0.0
        /// By added column name (om_<layer>_m2, om_gd_net_m2, …).
        var sums: [String: Double] = [:]

        mutating func count(_ row: PatchBatch.Row, _ added: [AttributeValue], _ fields: [FieldDefinition]) {
            patches += 1
            guard let r = row.result else {
                failed += 1
                return
            }
            verdicts[r.verdict.rawValue, default: 0] += 1
            areaM2 += r.site.areaM2
            for (field, value) in zip(fields, added) where field.name != "om_area_m2" {
                if case .real(let v) = value { sums[field.name, default: 0] += v }
            }
        }
    }

    let columns: BatchColumns
    /// The whole batch: the last line of the table, its county "全部" (all).
    private(set) var total = Tally(county: "全部", countyCode: "", township: "", townshipCode: "")
    private var byPlace: [String: Tally] = [:]

    init(columns: BatchColumns) { self.columns = columns }

    mutating func add(_ row: PatchBatch.Row, _ added: [AttributeValue]) {
        let key = [row.county?.code ?? "", row.township?.code ?? ""].joined(separator: "|")
        var place =
            byPlace[key]
            ?? Tally(
                county: row.county?.name ?? "", countyCode: row.county?.code ?? "", township: row.township?.name ?? "",
                townshipCode: row.township?.code ?? "")
        place.count(row, added, columns.fields)
        total.count(row, added, columns.fields)
        byPlace[key] = place
    }

    var places: [Tally] { byPlace.keys.sorted().map { byPlace[$0]! } }

    private var sumNames: [String] { columns.fields.filter { $0.type == .real && $0.name != "om_area_m2" }.map(\.name) }

    func csv() -> Data {
        let verdicts = ["forbidden", "restricted", "notice", "clear"]
        var lines = [
            (["county_code", "county", "township_code", "township", "patches", "not_checked"] + verdicts + ["area_m2"] + sumNames).joined(
                separator: ",")
        ]
        for t in places + [total] {
            var cells = [t.countyCode, t.county, t.townshipCode, t.township, String(t.patches), String(t.failed)]
            cells += verdicts.map { String(t.verdicts[$0] ?? 0) }
            cells += [String((t.areaM2 * 100).rounded() / 100)] + sumNames.map { String(((t.sums[$0] ?? 0) * 100).rounded() / 100) }
            lines.append(cells.map(BatchWriter.quoted).joined(separator: ","))
        }
        return Data(("\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    func json() throws -> Data {
        struct Report: Codable {
            var total: Tally
            var places: [Tally]
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(Report(total: total, places: places)) + Data("\n".utf8)
    }
}
