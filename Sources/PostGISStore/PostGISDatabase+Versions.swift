import Foundation
import GeoCore
import LayerStore
import PostgresNIO

/// The layer versions OneMap's schema records: what `onemap layers` and `versions` list, what
/// a replica copies, and what `prune` drops.
extension PostGISDatabase {
    /// One version of a layer, as `onemap.layer_versions` records it.
    public struct StoredVersion: Sendable {
        public var spec: LayerSpec
        public var version: Int
        public var label: String
        public var table: String
        public var geometryType: String
        public var count: Int
        public var bbox: [Double]?
        public var loadedAt: String
        public var source: String
        public var definitionChange: String?
        public var fields: [FieldDefinition]
        public var sourceCRS: String
        public var repaired: Int
        /// Whether it is the layer's current version.
        public var current: Bool

        /// As `onemap versions` lists a version on either backend.
        public var summary: Store.VersionSummary {
            Store.VersionSummary(
                version: version, label: label, count: count, loadedAt: loadedAt, current: current, source: source,
                rule: spec.rule?.summary, definitionChange: definitionChange)
        }

        /// As a replica copies it.
        var mirrored: MirroredVersion {
            MirroredVersion(
                spec: spec, version: version, label: label, geometryType: geometryType, fields: fields, sourceCRS: sourceCRS,
                loadedAt: loadedAt, repaired: repaired, note: definitionChange)
        }
    }

    /// Every layer's current version, by name.
    public func layers() async throws -> [StoredVersion] {
        try await storedVersions(of: nil, doing: "listing the layers")
    }

    /// Every version of `layer`, oldest first.
    public func versions(of layer: String) async throws -> [StoredVersion] {
        let found = try await storedVersions(of: layer, doing: "listing the versions of '\(layer)'")
        guard !found.isEmpty else { throw StoreError.unknownLayer(layer, known: try await layers().map(\.spec.name)) }
        return found
    }

    /// Drops the oldest versions of `layer`, keeping the newest `keep` (never the current one),
    /// in one transaction: their rows in the catalog and their tables. Returns those dropped.
    /// Check records keep their own answer and geometry, so none needs a version dropped here.
    public func prune(_ layer: String, keep: Int) async throws -> [StoredVersion] {
        guard keep >= 1 else { throw StoreError.invalidRequest("--keep must be at least 1") }
        return try await transaction("dropping versions of '\(layer)'") {
            // The load's lock: a load of the same layer waits, and cannot make current a version dropped here.
            try await lockLayer(layer)
            let doomed = Array(try await versions(of: layer).filter { !$0.current }.dropLast(max(0, keep - 1)))
            for v in doomed {
                try await execute(
                    PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS onemap.\(v.table)"),
                    "dropping version \(v.version) of '\(layer)'")
                try await execute(
                    "DELETE FROM onemap.layer_versions WHERE layer = \(layer) AND version = \(v.version)",
                    "dropping version \(v.version) of '\(layer)'")
            }
            return doomed
        }
    }

    /// Holds `layer` for the rest of the transaction: one load or prune of a layer at a time,
    /// so two cannot take the same version number, nor drop a version being made current.
    func lockLayer(_ layer: String) async throws {
        try await execute("SELECT pg_advisory_xact_lock(7142002, hashtext(\(layer)))", "locking layer '\(layer)'")
    }

    /// Every version of `layer`; nil: every layer's current version.
    private func storedVersions(of layer: String?, doing: String) async throws -> [StoredVersion] {
        var binds = PostgresBindings()
        if let layer { binds.append(layer) }
        var out: [StoredVersion] = []
        do {
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT v.spec::text, v.version, v.label, v.table_name, v.geometry_type, v.feature_count,
                            v.min_x, v.min_y, v.max_x, v.max_y,
                            to_char(v.loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), v.source, v.definition_change,
                            v.fields::text, v.source_crs, v.repaired, v.version = l.current_version
                        FROM onemap.layers l JOIN onemap.layer_versions v ON v.layer = l.name
                        WHERE \(layer == nil ? "v.version = l.current_version" : "v.layer = $1") ORDER BY l.name, v.version
                        """, binds: binds), logger: logger)
            for try await (
                spec, version, label, table, type, count, minX, minY, maxX, maxY, loadedAt, source, change, fields, crs, repaired, current
            ) in rows.decode(
                (
                    String, Int, String, String, String, Int, Double?, Double?, Double?, Double?, String, String, String?, String, String,
                    Int, Bool
                ).self)
            {
                let bbox = [minX, minY, maxX, maxY].compactMap { $0 }
                out.append(
                    StoredVersion(
                        spec: try JSONDecoder().decode(LayerSpec.self, from: Data(spec.utf8)), version: version, label: label,
                        table: table, geometryType: type, count: count, bbox: bbox.count == 4 ? bbox : nil, loadedAt: loadedAt,
                        source: source, definitionChange: change,
                        fields: try JSONDecoder().decode([FieldDefinition].self, from: Data(fields.utf8)), sourceCRS: crs,
                        repaired: repaired, current: current))
            }
        } catch let e as DecodingError {
            throw StoreError.database("\(location): a layer's stored definition cannot be read: \(e)")
        } catch {
            throw StoreError.database("\(location): \(doing) failed: \(Self.reason(error))")
        }
        return out
    }
}
