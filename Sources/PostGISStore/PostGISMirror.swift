import Foundation
import GeoCore
import LayerStore
import PostgresNIO

/// Brings a local store up to date with the layers' current versions in PostGIS: a replica
/// answers checks, tiles and features from memory, built from a local SpatiaLite copy as a
/// one-machine OneMap builds them, so every part of the engine runs the same on either backend.
/// The copy is a cache of the database: a version is copied once, under its own number, and
/// only the current version of each layer is copied.
public struct PostGISMirror: Sendable {
    public let database: PostGISDatabase
    public let store: Store
    static let batchRows = 4096

    public init(database: PostGISDatabase, store: Store) {
        self.database = database
        self.store = store
    }

    /// One layer version copied, or found copied already.
    public struct Copied: Sendable {
        public var layer: String
        public var kind: LayerKind
        public var version: Int
        public var count: Int
        public var seconds: Double
    }

    /// Copies every layer's current version the store lacks; returns those it copied.
    public func sync() async throws -> [Copied] {
        var copied: [Copied] = []
        for version in try await currentVersions() where try !MirrorWriter.has(version, in: store) {
            let started = Date()
            let count = try await copy(version)
            copied.append(
                Copied(
                    layer: version.spec.name, kind: version.spec.kind, version: version.version, count: count,
                    seconds: Date().timeIntervalSince(started)))
        }
        return copied
    }

    /// Each layer's current version, as OneMap's schema in PostGIS records it.
    func currentVersions() async throws -> [MirroredVersion] {
        let rows = try await database.rows(
            """
            SELECT v.spec::text || E'\\x1f' || v.version || E'\\x1f' || v.label || E'\\x1f' || v.geometry_type || E'\\x1f'
                || v.fields::text || E'\\x1f' || v.source_crs || E'\\x1f'
                || to_char(v.loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || E'\\x1f' || v.repaired
                || E'\\x1f' || COALESCE(v.definition_change, '')
            FROM onemap.layers l JOIN onemap.layer_versions v ON v.layer = l.name AND v.version = l.current_version
            ORDER BY l.name
            """, as: String.self, "reading the layers' current versions")
        return try rows.map { line in
            let f = line.split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 9, let version = Int(f[1]), let repaired = Int(f[7]) else {
                throw StoreError.database("\(database.location): a row of onemap.layer_versions cannot be read")
            }
            return MirroredVersion(
                spec: try JSONDecoder().decode(LayerSpec.self, from: Data(f[0].utf8)), version: version, label: f[2],
                geometryType: f[3], fields: try JSONDecoder().decode([FieldDefinition].self, from: Data(f[4].utf8)),
                sourceCRS: f[5], loadedAt: f[6], repaired: repaired, note: f[8].isEmpty ? nil : f[8])
        }
    }

    /// Streams one version's rows from PostGIS into the store, in batches; returns the count.
    private func copy(_ version: MirroredVersion) async throws -> Int {
        let table = "lyr_\(version.spec.name)_\(version.version)"
        let fields = version.fields
        let columns = fields.map { PostGISImporter.quoted($0.name) + "," }.joined()
        let sql =
            "SELECT om_id, om_source_fid, om_area_m2, om_length_m, om_minx, om_miny, om_maxx, om_maxy, \(columns) "
            + "ST_AsBinary(geom) FROM onemap.\(table) ORDER BY om_fid"
        var writer = try MirrorWriter(store: store, version: version)
        var batch: [MirroredRow] = []
        batch.reserveCapacity(Self.batchRows)
        var count = 0
        do {
            let rows = try await database.connection.query(PostgresQuery(unsafeSQL: sql), logger: database.logger)
            for try await row in rows {
                let cells = row.makeRandomAccess()
                var attributes: [AttributeValue] = []
                attributes.reserveCapacity(fields.count)
                for (i, field) in fields.enumerated() {
                    let cell = cells[8 + i]
                    switch field.type {
                    case .integer: attributes.append(try cell.decode(Int64?.self).map { .integer($0) } ?? .null)
                    case .real: attributes.append(try cell.decode(Double?.self).map { .real($0) } ?? .null)
                    case .text: attributes.append(try cell.decode(String?.self).map { .text($0) } ?? .null)
                    }
                }
                var wkb = try cells[8 + fields.count].decode(ByteBuffer.self)
                let geometry = try WKB.decode(wkb.readBytes(length: wkb.readableBytes) ?? [])
                let box = BoundingBox(
                    try cells[4].decode(Double.self), try cells[5].decode(Double.self), try cells[6].decode(Double.self),
                    try cells[7].decode(Double.self))
                batch.append(
                    MirroredRow(
                        id: try cells[0].decode(String.self), sourceFID: try cells[1].decode(Int64.self),
                        area: try cells[2].decode(Double.self), length: try cells[3].decode(Double.self), box: box,
                        attributes: attributes, geometry: geometry))
                if batch.count == Self.batchRows {
                    try writer.append(batch)
                    count += batch.count
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try writer.append(batch)
            count += batch.count
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.database(
                "\(database.location): reading version \(version.version) of '\(version.spec.name)' failed: \(PostGISDatabase.reason(error))"
            )
        }
        try writer.finish()
        return count
    }
}
