import Foundation
import GRDB
import GeoCore

/// Layer versions (红线动态监管, 年度变更): list them, drop the oldest, compare two by feature id.
extension Store {
    public struct VersionSummary: Codable, Sendable {
        public var version: Int
        public var label: String
        public var count: Int
        public var loadedAt: String
        public var current: Bool
        public var source: String
        /// The rule this version is checked with, e.g. "forbidden inside"; nil for none.
        public var rule: String?
        /// How its definition changed from the version before, and by whom; nil when it did not.
        public var definitionChange: String?

        public init(
            version: Int, label: String, count: Int, loadedAt: String, current: Bool, source: String, rule: String?,
            definitionChange: String?
        ) {
            self.version = version
            self.label = label
            self.count = count
            self.loadedAt = loadedAt
            self.current = current
            self.source = source
            self.rule = rule
            self.definitionChange = definitionChange
        }
    }

    /// The two versions of `layer` a comparison takes, by label or number: `to` (default the
    /// current one) and `from` (default the one before `to`).
    public static func comparedVersions(
        _ layer: String, from: String?, to: String?, among all: [VersionSummary]
    ) throws -> (from: VersionSummary, to: VersionSummary) {
        func find(_ wanted: String?) throws -> VersionSummary {
            let found =
                if let wanted { all.first { $0.label == wanted || String($0.version) == wanted } } else { all.first(where: \.current) }
            guard let found else { throw StoreError.unknownVersion(layer: layer, version: wanted ?? "current") }
            return found
        }
        let newer = try find(to)
        if let from { return (try find(from), newer) }
        guard let previous = all.filter({ $0.version < newer.version }).max(by: { $0.version < $1.version }) else {
            throw StoreError.invalidRequest("layer '\(layer)' has no version before \(newer.label); nothing to compare")
        }
        return (previous, newer)
    }

    public func versions(of layer: String) throws -> [VersionSummary] {
        try pool.read { db in
            let current = try Int.fetchOne(db, sql: "SELECT current_version FROM onemap_layers WHERE name = ?", arguments: [layer])
            guard let current else {
                throw StoreError.unknownLayer(layer, known: try String.fetchAll(db, sql: "SELECT name FROM onemap_layers ORDER BY name"))
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT version, label, feature_count, loaded_at, source, spec, definition_change
                    FROM onemap_layer_versions WHERE layer = ? ORDER BY version
                    """, arguments: [layer]
            ).map {
                let spec = try JSONDecoder().decode(LayerSpec.self, from: Data(($0["spec"] as String).utf8))
                return VersionSummary(
                    version: $0["version"], label: $0["label"], count: $0["feature_count"], loadedAt: $0["loaded_at"],
                    current: ($0["version"] as Int) == current, source: $0["source"], rule: spec.rule?.summary,
                    definitionChange: $0["definition_change"])
            }
        }
    }

    /// Drops the oldest versions, keeping the newest `keep` (never the current one).
    /// Returns the versions dropped. `prepare` runs first in the same transaction, with the
    /// versions to drop: it must draw the geometry of every check record that still needs
    /// one of them, since no version a pending record names is dropped (`CheckRecords.prune`).
    @discardableResult
    public func prune(_ layer: String, keep: Int, prepare: ((Database, [VersionSummary]) throws -> Void)? = nil) throws -> [VersionSummary]
    {
        guard keep >= 1 else { throw StoreError.invalidRequest("--keep must be at least 1") }
        let all = try versions(of: layer)
        let doomed = all.filter { !$0.current }.dropLast(max(0, keep - 1))
        try pool.write { db in
            try prepare?(db, Array(doomed))
            let waiting = try Self.recordsAwaitingGeometry(db, layer: layer, versions: Set(doomed.map(\.version)))
            guard waiting.isEmpty else {
                throw StoreError.invalidRequest(
                    "\(waiting.count) check record(s) (first \(waiting[0])) still need layer '\(layer)' "
                        + "version(s) \(doomed.map(\.label).joined(separator: ", ")) to draw their conflict geometry; nothing was dropped")
            }
            for v in doomed {
                let table = FeatureTable(layer: layer, version: v.version, fields: [])
                try FeatureTable.unregister(table.name, db: db)
                try ParcelLandUseTable.drop(beside: table.name, db: db)
                try db.execute(sql: table.dropSQL)
                try db.execute(sql: "DELETE FROM onemap_layer_versions WHERE layer = ? AND version = ?", arguments: [layer, v.version])
            }
        }
        return Array(doomed)
    }

    /// Finds a version by its label or number; nil means the current one.
    func resolveVersion(_ db: Database, layer: String, _ wanted: String?) throws -> LayerVersion {
        let row: Row?
        if let wanted {
            guard !wanted.isEmpty else { throw StoreError.unknownVersion(layer: layer, version: wanted) }
            row = try Row.fetchOne(
                db, sql: "SELECT * FROM onemap_layer_versions WHERE layer = ? AND (label = ? OR CAST(version AS TEXT) = ?)",
                arguments: [layer, wanted, wanted])
        } else {
            row = try Row.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM onemap_layer_versions v JOIN onemap_layers l ON l.name = v.layer AND l.current_version = v.version
                    WHERE v.layer = ?
                    """, arguments: [layer])
        }
        guard let row else { throw StoreError.unknownVersion(layer: layer, version: wanted ?? "current") }
        return try LayerVersion(row: row)
    }

    public struct Diff: Sendable {
        public struct Change: Codable, Sendable {
            public var id: String
            public var geometryChanged: Bool
            public var areaDeltaM2: Double
            public var attributesChanged: [String]
        }
        public var layer: String
        public var from: LayerVersion
        public var to: LayerVersion
        public var added: [String]
        public var removed: [String]
        public var changed: [Change]
        /// Every feature that differs, with its area delta and a point to place it (lon/lat).
        public var deltas: [(id: String, areaDeltaM2: Double, at: Coordinate, geometry: Geometry?)]
    }

    /// Compares two versions of a layer by feature id: added, removed, and changed features
    /// (geometry, with the area delta, and/or attributes, naming the fields). The default is
    /// the current version against the one before it.
    public func diff(_ layer: String, from: String? = nil, to: String? = nil) throws -> Diff {
        let compared = try Self.comparedVersions(layer, from: from, to: to, among: try versions(of: layer))
        return try pool.read { db in
            let toVersion = try resolveVersion(db, layer: layer, String(compared.to.version))
            let fromVersion = try resolveVersion(db, layer: layer, String(compared.from.version))
            let a = fromVersion.tableName.sqlIdentifier, b = toVersion.tableName.sqlIdentifier
            func centre(_ row: Row, _ prefix: String) -> Coordinate {
                Coordinate(
                    ((row[prefix + "minx"] as Double) + (row[prefix + "maxx"] as Double)) / 2,
                    ((row[prefix + "miny"] as Double) + (row[prefix + "maxy"] as Double)) / 2)
            }
            var deltas: [(String, Double, Coordinate, Geometry?)] = []
            var added: [String] = [], removed: [String] = []
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT om_id, om_area_m2, om_minx AS minx, om_miny AS miny, om_maxx AS maxx, om_maxy AS maxy, geom FROM \(b) WHERE om_id NOT IN (SELECT om_id FROM \(a)) ORDER BY om_id"
            ) {
                added.append(row["om_id"])
                deltas.append((row["om_id"], row["om_area_m2"], centre(row, ""), try? SpatiaLiteGeometry.decode(row["geom"])))
            }
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT om_id, om_area_m2, om_minx AS minx, om_miny AS miny, om_maxx AS maxx, om_maxy AS maxy, geom FROM \(a) WHERE om_id NOT IN (SELECT om_id FROM \(b)) ORDER BY om_id"
            ) {
                removed.append(row["om_id"])
                deltas.append((row["om_id"], -(row["om_area_m2"] as Double), centre(row, ""), try? SpatiaLiteGeometry.decode(row["geom"])))
            }
            // Fields present in either version; a field only in one counts as changed where set.
            let fromFields = Set(fromVersion.fields.map(\.name)), toFields = Set(toVersion.fields.map(\.name))
            let shared = fromVersion.fields.map(\.name).filter { toFields.contains($0) }
            let onlyFrom = fromVersion.fields.map(\.name).filter { !toFields.contains($0) }
            let onlyTo = toVersion.fields.map(\.name).filter { !fromFields.contains($0) }
            var columns = [
                "x.geom = y.geom AS same_geom", "x.om_area_m2 AS area_from", "y.om_area_m2 AS area_to",
                "y.om_minx AS minx", "y.om_miny AS miny", "y.om_maxx AS maxx", "y.om_maxy AS maxy", "y.geom AS geom"
            ]
            columns += shared.enumerated().map { "x.\($1.sqlIdentifier) IS y.\($1.sqlIdentifier) AS s\($0)" }
            columns += onlyFrom.enumerated().map { "x.\($1.sqlIdentifier) IS NULL AS f\($0)" }
            columns += onlyTo.enumerated().map { "y.\($1.sqlIdentifier) IS NULL AS t\($0)" }
            var changed: [Diff.Change] = []
            let cursor = try Row.fetchCursor(
                db,
                sql:
                    "SELECT x.om_id AS id, \(columns.joined(separator: ", ")) FROM \(a) x JOIN \(b) y ON x.om_id = y.om_id ORDER BY x.om_id"
            )
            while let row = try cursor.next() {
                var fields: [String] = []
                for (i, name) in shared.enumerated() where !(row["s\(i)"] as Bool) { fields.append(name) }
                for (i, name) in onlyFrom.enumerated() where !(row["f\(i)"] as Bool) { fields.append(name) }
                for (i, name) in onlyTo.enumerated() where !(row["t\(i)"] as Bool) { fields.append(name) }
                let geometryChanged = !(row["same_geom"] as Bool)
                guard geometryChanged || !fields.isEmpty else { continue }
                let delta = geometryChanged ? (row["area_to"] as Double) - (row["area_from"] as Double) : 0
                changed.append(.init(id: row["id"], geometryChanged: geometryChanged, areaDeltaM2: delta, attributesChanged: fields))
                if geometryChanged { deltas.append((row["id"], delta, centre(row, ""), try? SpatiaLiteGeometry.decode(row["geom"]))) }
            }
            return Diff(
                layer: layer, from: fromVersion, to: toVersion, added: added, removed: removed, changed: changed,
                deltas: deltas.map { (id: $0.0, areaDeltaM2: $0.1, at: $0.2, geometry: $0.3) })
        }
    }
}
