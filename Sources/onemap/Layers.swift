import ArgumentParser
import Foundation
import LayerStore
import PostGISStore

struct Layers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the loaded layers.")

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Machine-readable output.") var json = false

    struct Entry: Encodable {
        var name, title, kind, geometryType: String
        var count: Int
        var bbox: [Double]?
        var version: String
        var versionNumber: Int
        var loadedAt: String
        var source: String
        var access: String
        /// What a check applies, in a few words ("forbidden inside"); nil for a layer without a rule.
        var rule: String?
        var ruleDetail: Rule?
        var definitionChange: String?
    }

    func run() async throws {
        let entries: [Entry]
        if let location = try database.upstream() {
            entries = try await PostGISDatabase.with(location) { db in try await db.layers() }.map { l in
                Entry(
                    name: l.spec.name, title: l.spec.title, kind: l.spec.kind.rawValue, geometryType: l.geometryType, count: l.count,
                    bbox: l.bbox, version: l.label, versionNumber: l.version, loadedAt: l.loadedAt, source: l.source,
                    access: l.spec.access.rawValue, rule: l.spec.rule?.summary, ruleDetail: l.spec.rule,
                    definitionChange: l.definitionChange)
            }
        } else {
            entries = try Store(path: database.target).layers().map { l in
                Entry(
                    name: l.name, title: l.spec.title, kind: l.spec.kind.rawValue, geometryType: l.version.geometryType,
                    count: l.version.count, bbox: l.version.bbox?.array, version: l.version.label,
                    versionNumber: l.version.number, loadedAt: l.version.loadedAt, source: l.version.source,
                    access: l.spec.access.rawValue, rule: l.spec.rule?.summary, ruleDetail: l.spec.rule,
                    definitionChange: l.version.definitionChange)
            }
        }
        if json { try Terminal.printJSON(entries); return }
        if entries.isEmpty { print("No layers loaded. Try: onemap load"); return }
        print(
            Terminal.pad("name", 20) + Terminal.pad("title", 18) + Terminal.pad("kind", 20) + Terminal.pad("geometry", 17)
                + Terminal.pad("count", 9) + Terminal.pad("version", 27) + "bbox [minLon, minLat, maxLon, maxLat]")
        for e in entries {
            let bbox = e.bbox.map { "[" + $0.map { String(format: "%.5f", $0) }.joined(separator: ", ") + "]" } ?? "-"
            print(
                Terminal.pad(e.name, 20) + Terminal.pad(e.title, 18) + Terminal.pad(e.kind, 20) + Terminal.pad(e.geometryType, 17)
                    + Terminal.pad(String(e.count), 9) + Terminal.pad("\(e.version) (#\(e.versionNumber))", 27) + bbox)
            print("    rule: \(e.rule ?? "none (not checked)"); access \(e.access)")
            print("    loaded \(e.loadedAt) from \(e.source)")
            if let change = e.definitionChange { print("    definition \(change)") }
        }
    }
}
