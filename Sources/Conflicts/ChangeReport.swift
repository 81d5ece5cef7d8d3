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

    /// `layer` and the counties are as `caller` sees them: a hidden layer is unknown, and
    /// the counties come from an admin layer the caller may see.
    public static func make(store: Store, layer: String, from: String?, to: String?, for caller: Caller = .anonymous) throws -> ChangeReport
    {
        _ = try store.pool.read { db in try caller.visibleLayer(layer, db) }
        let diff = try store.diff(layer, from: from, to: to)
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
