import Foundation
import GRDB
import GeoCore
import LayerStore

/// A layer's change between two versions (年度变更, 红线动态监管), with the net area change
/// per county: each changed feature's area delta is placed in the county holding its centre.
public struct ChangeReport: Sendable {
    public struct CountyDelta: Codable, Sendable {
        public var code: String
        public var name: String?
        public var areaDeltaM2: Double
    }

    public struct Summary: Codable, Sendable {
        public var layer: String
        public var from: String
        public var to: String
        public var added: [String]
        public var removed: [String]
        public var changed: [Store.Diff.Change]
        public var byCounty: [CountyDelta]
    }

    public var summary: Summary
    public var diff: Store.Diff

    /// `layer` and the counties are as `caller` sees them: a hidden layer is unknown, the
    /// counties come from an admin layer the caller may see, and a scoped caller's restricted
    /// layer changes only where its scope's part of either version does (`within`).
    public static func make(store: Store, layer: String, from: String?, to: String?, for caller: Caller = .anonymous) throws -> ChangeReport
    {
        let sight = try store.pool.read { db in
            caller.sight(of: try caller.require([layer], among: try caller.readableLayers(db))[0])
        }
        var diff = try store.diff(layer, from: from, to: to)
        if case .withinScope(let scope) = sight {
            diff = try store.pool.read { [diff] db in try Self.within(scope, diff, store: store, db) }
        }
        var byCounty: [String: CountyDelta] = [:]
        try store.pool.read { db in
            let engine = GeometryEngine()
            guard let units = try? AdminUnits(db: db, by: "county", among: try caller.visibleLayers(db), engine: engine) else { return }
            for d in diff.deltas {
                guard let u = try units.unit(at: d.at) else { continue }
                let unit = units.units[u]
                byCounty[unit.code, default: CountyDelta(code: unit.code, name: unit.name, areaDeltaM2: 0)].areaDeltaM2 += d.areaDeltaM2
            }
        }
        let summary = Summary(
            layer: layer, from: diff.from.label, to: diff.to.label, added: diff.added, removed: diff.removed,
            changed: diff.changed, byCounty: byCounty.values.sorted { $0.code < $1.code })
        return ChangeReport(summary: summary, diff: diff)
    }

    /// The changes of the features in the scope's part of either version (`Store.scopeCut`): an
    /// added feature in the new version's part, a removed one in the old's, a changed one in
    /// either (a feature that moved out of the scope, or into it, is the scope's change too).
    static func within(_ scope: DataScope, _ diff: Store.Diff, store: Store, _ db: Database) throws -> Store.Diff {
        func ids(_ version: LayerVersion) throws -> Set<String> {
            let cut = try store.scopeCut(scope, of: version, db)
            var ids = Set<String>()
            let rows = try Row.fetchCursor(db, sql: "SELECT om_fid, om_id FROM \(FeatureTable.quote(FeatureTable(version).name))")
            while let row = try rows.next() {
                if cut.contains(row[0]) { ids.insert(row[1]) }
            }
            return ids
        }
        let before = try ids(diff.from), after = try ids(diff.to)
        let added = Set(diff.added), removed = Set(diff.removed)
        func kept(_ id: String) -> Bool {
            added.contains(id) ? after.contains(id) : removed.contains(id) ? before.contains(id) : before.contains(id) || after.contains(id)
        }
        var cut = diff
        cut.added = diff.added.filter(kept)
        cut.removed = diff.removed.filter(kept)
        cut.changed = diff.changed.filter { kept($0.id) }
        cut.deltas = diff.deltas.filter { kept($0.id) }
        return cut
    }

    /// The changed features for QGIS: added, removed and reshaped ones, with their area delta.
    /// Streamed as text: JSONSerialization boxes every coordinate, and a year's change of a
    /// large layer is tens of thousands of features.
    public func geojson() throws -> Data {
        let added = Set(diff.added), removed = Set(diff.removed)
        var w = GeoJSONWriter()
        w.raw("{\"type\":\"FeatureCollection\",\"features\":[")
        var first = true
        for d in diff.deltas {
            guard let g = d.geometry else { continue }
            let kind = added.contains(d.id) ? "added" : (removed.contains(d.id) ? "removed" : "changed")
            if !first { w.raw(",") }
            first = false
            w.feature(g, properties: [("areaDeltaM2", d.areaDeltaM2), ("change", kind), ("id", d.id)])
        }
        w.raw("]}")
        return Data(w.text.utf8)
    }
}
