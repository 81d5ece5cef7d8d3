import ArgumentParser
import Conflicts
import Foundation
import GeoCore
import LandUse
import LayerStore
import PostGISStore

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "The natural-resources ledger (一本账): count and ellipsoidal area per layer and administrative unit.")

    enum Format: String, ExpressibleByArgument { case text, json, csv }

    @Option(
        help: """
            Units: an admin layer name, or a level of it (county, township). Without boundaries of \
            that level, land-use layers count by their 坐落单位代码 (township, village).
            """)
    var by = "county"
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(help: "Output format: text, json or csv.") var format: Format = .text
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try await database.open()
        let wanted = layers?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let ledger = try LedgerBuilder(store: store).build(by: by, layers: wanted, for: .localUser)
        switch format {
        case .json:
            FileHandle.standardOutput.write(try CheckResult.encoder().encode(ledger) + Data("\n".utf8))
        case .csv:
            print("code,name,layer,count,areaM2,areaHa,areaMu")
            defer { Self.printLandUseCSV(ledger) }
            for u in ledger.units {
                for (name, f) in u.layers.sorted(by: { $0.key < $1.key }) {
                    print(
                        "\(u.code),\(u.name),\(name),\(f.count),\(String(format: "%.2f", f.areaM2)),\(String(format: "%.4f", f.areaHa)),\(String(format: "%.3f", f.areaMu))"
                    )
                }
            }
            for (name, f) in ledger.totals.sorted(by: { $0.key < $1.key }) {
                print(
                    "total,合计,\(name),\(f.count),\(String(format: "%.2f", f.areaM2)),\(String(format: "%.4f", f.areaHa)),\(String(format: "%.3f", f.areaMu))"
                )
            }
        case .text:
            let names = ledger.totals.keys.sorted()
            for name in names {
                print("\(name)")
                for u in ledger.units {
                    let f = u.layers[name] ?? Ledger.Figures()
                    print(
                        "  " + Terminal.pad("\(u.name) \(u.code)", 26) + Terminal.pad("\(f.count) 个", 12)
                            + "\(Wording.number(f.areaHa, decimals: 2)) 公顷  \(Wording.number(f.areaMu, decimals: 1)) 亩")
                }
                let t = ledger.totals[name]!
                print(
                    "  " + Terminal.pad("合计", 26) + Terminal.pad("\(t.count) 个", 12)
                        + "\(Wording.number(t.areaHa, decimals: 2)) 公顷  \(Wording.number(t.areaMu, decimals: 1)) 亩")
                if let lu = t.landUse {
                    // A land-use layer: net areas as 三调 summaries give them (田坎 under its own code).
                    for g in lu.byGroup.sorted(by: { $0.key < $1.key }) {
                        print("    \(g.key): 净 \(Wording.number(AreaUnit.hectares(fromM2: g.value), decimals: 2)) 公顷")
                    }
                    for c in lu.byClass {
                        print("    \(c.code) \(c.name): 净 \(Wording.number(AreaUnit.hectares(fromM2: c.netM2), decimals: 2)) 公顷")
                    }
                    for c in lu.byCode {
                        print(
                            "      \(c.code) \(c.name): 净 \(Wording.number(AreaUnit.hectares(fromM2: c.netM2), decimals: 2)) 公顷, "
                                + "毛 \(Wording.number(AreaUnit.hectares(fromM2: c.grossM2), decimals: 2)) 公顷")
                    }
                    if let u = t.unclassifiedM2, u > 0 { print("    未识别地类编码: \(Wording.number(u)) m²") }
                } else {
                    for (c, v) in (t.byDLBM ?? [:]).sorted(by: { $0.key < $1.key }) {
                        print("    地类 \(c): \(v.count) 个, \(Wording.number(v.areaHa, decimals: 2)) 公顷")
                    }
                }
            }
        }
    }

    /// Land-use layers' net areas per unit and code, after the main table, as a second table
    /// (code,name,layer,dlbm,dlmc,grossM2,netM2), the way 三调 summaries are tabulated.
    static func printLandUseCSV(_ ledger: Ledger) {
        let rows = ledger.units.flatMap { u in
            u.layers.sorted(by: { $0.key < $1.key }).flatMap { name, f in
                (f.landUse?.byCode ?? []).map { c in
                    "\(u.code),\(u.name),\(name),\(c.code),\(c.name),\(String(format: "%.2f", c.grossM2)),\(String(format: "%.2f", c.netM2))"
                }
            }
        }
        guard !rows.isEmpty else { return }
        print("")
        print("code,name,layer,dlbm,dlmc,grossM2,netM2")
        for r in rows { print(r) }
    }
}

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "versions", abstract: "List a layer's versions.")
    @Argument(help: "The layer.") var layer: String
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        let list: [Store.VersionSummary]
        if let location = try database.upstream() {
            list = try await PostGISDatabase.with(location) { db in try await db.versions(of: layer) }.map(\.summary)
        } else {
            list = try Store(path: database.target).versions(of: layer)
        }
        if json { try Terminal.printJSON(list); return }
        for v in list {
            print(
                "\(v.current ? "*" : " ") #\(v.version)  \(Terminal.pad(v.label, 24)) \(Terminal.pad("\(v.count) 个", 12)) \(v.loadedAt)  \(v.source)"
            )
            print("      rule: \(v.rule ?? "none")" + (v.definitionChange.map { "; \($0)" } ?? ""))
        }
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Drop a layer's oldest versions.")
    @Argument(help: "The layer.") var layer: String
    @Option(help: "How many versions to keep (the current one always stays).") var keep: Int
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let dropped: [Store.VersionSummary]
        if let location = try database.upstream() {
            dropped = try await PostGISDatabase.with(location) { db in try await db.prune(layer, keep: keep) }.map(\.summary)
        } else {
            // Through the records: a record whose geometry is still to be drawn needs the versions it names.
            dropped = try CheckRecords(store: try Store(path: database.target)).prune(layer, keep: keep)
        }
        print(dropped.isEmpty ? "nothing to drop" : "dropped " + dropped.map { "#\($0.version) \($0.label)" }.joined(separator: ", "))
    }
}

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two versions of a layer by feature id (年度变更): added, removed, changed, net area per county.")
    enum Format: String, ExpressibleByArgument { case text, json, geojson }
    @Argument(help: "The layer.") var layer: String
    @Option(help: "The older version (label or number; default: the one before --to).") var from: String?
    @Option(help: "The newer version (label or number; default: the current one).") var to: String?
    @Option(help: "Output format: text, json or geojson.") var format: Format = .text
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let report: ChangeReport
        if let location = try database.upstream() {
            // The two versions copied beside the current ones, and named by number: the copy
            // holds only some of the layer's versions, so "the one before" is the database's.
            let compared = try Store.comparedVersions(
                layer, from: from, to: to,
                among: try await PostGISDatabase.with(location) { db in try await db.versions(of: layer) }.map(\.summary))
            let store = try await DatabaseOptions.copy(
                location, standby: try database.standby(), into: database.cachePath(for: location),
                versions: [layer: [compared.from.version, compared.to.version]])
            report = try ChangeReport.make(
                store: store, layer: layer, from: String(compared.from.version), to: String(compared.to.version), for: .localUser)
        } else {
            report = try ChangeReport.make(store: try Store(path: database.target), layer: layer, from: from, to: to, for: .localUser)
        }
        switch format {
        case .json: FileHandle.standardOutput.write(try CheckResult.encoder().encode(report.summary) + Data("\n".utf8))
        case .geojson: FileHandle.standardOutput.write(try report.geojson() + Data("\n".utf8))
        case .text:
            let s = report.summary
            print("\(s.layer): \(s.from) → \(s.to)")
            print(
                "  新增 \(s.added.count), 删除 \(s.removed.count), 变更 \(s.changed.count) (图形 \(s.changed.filter(\.geometryChanged).count), 属性 \(s.changed.filter { !$0.attributesChanged.isEmpty }.count))"
            )
            for c in s.byCounty { print("  \(c.code) \(c.name ?? ""): 面积变化 \(Wording.number(c.areaDeltaM2)) m²") }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Find every pair of features from two layers that overlap (三线矛盾图斑).")
    enum Format: String, ExpressibleByArgument { case json, geojson, csv }
    @Option(help: "Layer pairs a:b, comma-separated (default: the three control lines against each other).") var pairs: String?
    @Option(help: "Smallest overlap reported, m².") var minArea = 1.0
    @Option(
        name: .customLong("where"),
        help: """
            Keep only the land-use layer's 图斑 of these 地类: 'code [not] PATTERN[,…]' (e.g. \
            'code not 01*': 永久基本农田 on land that is not 耕地) or 'group [not] 建设用地'.
            """)
    var filter: String?
    @Option(help: "Output format: json, geojson or csv.") var format: Format = .json
    @Option(help: "Write here instead of standard output.") var out: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let list: [(String, String)] =
            try pairs.map { spec in
                try spec.split(separator: ",").map { p in
                    let parts = p.split(separator: ":").map { String($0).trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { throw ValidationError("--pairs: '\(p)' is not a:b") }
                    return (parts[0], parts[1])
                }
            } ?? CrossLayerAudit.defaultPairs
        let store = try await database.open()
        let started = Date()
        let landFilter: LandCodeFilter?
        do { landFilter = try filter.map { try LandCodeFilter($0) } } catch let e as LandCodeFilter.SyntaxError {
            throw ValidationError("--\(e)")
        }
        let (found, summary) = try CrossLayerAudit(store: store).run(
            pairs: list, minimumAreaM2: minArea, where: landFilter, for: .localUser)
        FileHandle.standardError.write(Data(String(format: "%d pairs in %.3f s\n", found.count, Date().timeIntervalSince(started)).utf8))
        let data: Data
        switch format {
        case .json: data = try CrossLayerAudit.json(found, summary)
        case .geojson: data = try CrossLayerAudit.geojson(found)
        case .csv:
            var text = "a,b,aId,bId,overlapAreaM2,county\n"
            for p in found { text += "\(p.a),\(p.b),\(p.aId),\(p.bId),\(String(format: "%.4f", p.overlapAreaM2)),\(p.county ?? "")\n" }
            data = Data(text.utf8)
        }
        if let out { try data.write(to: URL(fileURLWithPath: out)) } else { FileHandle.standardOutput.write(data + Data("\n".utf8)) }
    }
}
