import Foundation
import GeoCore
import LayerStore
import PostgresNIO
import VectorIO

/// Loads a layer's source into a new version in PostGIS: the rows `ImportRows` makes (the
/// same repair, areas and validation as a SpatiaLite load) streamed with `COPY … FROM STDIN`
/// into a new table, indexed, and registered, all in one transaction: readers see the old
/// version until the commit, and a failed or killed load leaves nothing behind.
///
/// Each version is a table `onemap.lyr_<layer>_<version>` (named as in SpatiaLite), a typed
/// PostGIS table a GIS analyst opens as it is: `geometry(MultiPolygon, 4490)` or the layer's
/// type, a GiST index, the source's fields as columns. `onemap_layers.<layer>` is a view of
/// the current version, so QGIS or pg_featureserv can be pointed at a name that follows loads.
public struct PostGISImporter {
    /// The view of each layer's current version lives in this schema.
    static let currentSchema = "onemap_layers"
    /// Rows are sent in chunks of about this many bytes.
    static let chunkBytes = 1 << 20

    public let database: PostGISDatabase
    public var progress: ((Int, Int?) -> Void)?

    public init(database: PostGISDatabase, progress: ((Int, Int?) -> Void)? = nil) {
        self.database = database
        self.progress = progress
    }

    public func load(_ spec: LayerSpec, label: String? = nil, authority: DefinitionAuthority = .catalog) async throws -> ImportReport {
        let started = Date()
        let input = try ImportSource.open(spec)
        var report = try await database.transaction("the load of '\(spec.name)'") {
            try await load(input, label: label, authority: authority)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private func load(_ input: ImportSource, label: String?, authority: DefinitionAuthority) async throws -> ImportReport {
        let db = database
        let spec = input.spec
        let layer = spec.name
        try await db.lockLayer(layer)
        let version = try await db.rows(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM onemap.layer_versions WHERE layer = \(layer)", as: Int.self,
            "numbering the new version of '\(layer)'")[0]
        let taken = try await db.rows("SELECT label FROM onemap.layer_versions WHERE layer = \(layer)", as: String.self, "reading labels")
        let versionLabel = try LayerImporter.uniqueLabel(layer: layer, taken: Set(taken), wanted: label)
        // Named as SpatiaLite names it (FeatureTable owns the names).
        let table = FeatureTable(layer: layer, version: version, fields: []).name
        let fields = input.source.fields
        // A killed earlier load of this number left nothing (it rolled back); start clean anyway.
        try await db.execute("DROP TABLE IF EXISTS onemap.\(unescaped: table)", "clearing \(table)")
        let geometryType = LayerImporter.geometryTypes[input.dimension]
        let columns = fields.map { "\(Self.quoted($0.name)) \(Self.sqlType($0.type))," }.joined()
        try await db.execute(
            """
            CREATE TABLE onemap.\(unescaped: table)(
                om_fid bigint NOT NULL, om_id text NOT NULL, om_source_fid bigint NOT NULL,
                om_area_m2 double precision NOT NULL, om_length_m double precision NOT NULL,
                om_minx double precision NOT NULL, om_miny double precision NOT NULL,
                om_maxx double precision NOT NULL, om_maxy double precision NOT NULL,
                \(unescaped: columns)
                geom geometry(\(unescaped: geometryType), \(unescaped: String(LayerImporter.storageSRID))) NOT NULL)
            """, "creating \(table)")
        let rows = try await copy(input, into: table)
        // Keys and the GiST index after the rows: built once over them, not row by row.
        for (sql, what) in [
            ("ALTER TABLE onemap.\(table) ADD PRIMARY KEY (om_fid)", "its key"),
            ("CREATE UNIQUE INDEX \(table)_om_id ON onemap.\(table)(om_id)", "its id index"),
            ("CREATE INDEX \(table)_geom ON onemap.\(table) USING gist(geom)", "its spatial index"),
            ("ANALYZE onemap.\(table)", "its statistics")
        ] {
            try await db.execute(PostgresQuery(unsafeSQL: sql), "building \(what) on \(table)")
        }
        var warnings = try rows.valueWarnings()
        let definition = try VersionDefinition(stored: try await db.definition(of: layer), spec: spec, authority: authority)
        warnings += definition.warnings
        warnings += rows.extentWarnings
        let counted = rows.counted
        let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let fieldsJSON = String(decoding: try JSONEncoder().encode(fields), as: UTF8.self)
        let b = counted.bbox
        try await db.execute(
            """
            INSERT INTO onemap.layer_versions(layer, version, label, table_name, geometry_type, feature_count,
                min_x, min_y, max_x, max_y, fields, source, source_crs, loaded_at, repaired, spec, definition_change)
            VALUES (\(layer), \(version), \(versionLabel), \(table), \(geometryType), \(counted.count),
                \(b?.minX), \(b?.minY), \(b?.maxX), \(b?.maxY), \(fieldsJSON)::jsonb, \(spec.source), \(input.crs),
                now(), \(counted.repaired), \(specJSON)::jsonb, \(definition.note))
            """, "registering version \(version) of '\(layer)'")
        try await db.execute(
            """
            INSERT INTO onemap.layers(name, spec, current_version) VALUES (\(layer), \(specJSON)::jsonb, \(version))
            ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, current_version = excluded.current_version
            """, "making version \(version) current")
        // Replicas listening learn of the version when the load commits (a notification is
        // delivered at the commit, and never for a load rolled back).
        try await db.execute(
            "SELECT pg_notify(\(PostGISDatabase.versionsChannel), \(layer + ":" + String(version)))", "announcing version \(version)")
        // The view is made again: a new version's fields may differ from the last one's.
        for sql in [
            "CREATE SCHEMA IF NOT EXISTS \(Self.currentSchema)",
            "DROP VIEW IF EXISTS \(Self.currentSchema).\(layer)",
            "CREATE VIEW \(Self.currentSchema).\(layer) AS SELECT * FROM onemap.\(table)"
        ] {
            try await db.execute(PostgresQuery(unsafeSQL: sql), "pointing \(Self.currentSchema).\(layer) at version \(version)")
        }
        return ImportReport(
            layer: layer, version: version, label: versionLabel, count: counted.count, geometryType: geometryType,
            bbox: b?.array, sourceCRS: input.crs, encoding: input.source.encodingNote, repaired: counted.repaired,
            repairs: counted.repairs, warnings: warnings, definitionChanges: definition.changes, seconds: 0)
    }

    /// Streams the rows into `table` with COPY, refusing a second feature with an id already
    /// seen (by the feature, as a SpatiaLite load does, not by a failed unique index).
    private func copy(_ input: ImportSource, into table: String) async throws -> ImportRows {
        var rows = try ImportRows(input, encoding: .extendedWKB)
        let hint = input.source.featureCountHint
        var firstFID: [String: Int64] = [:]
        firstFID.reserveCapacity(hint ?? 0)
        var fid: Int64 = 0
        do {
            try await database.execute("SET LOCAL search_path TO onemap, public", "choosing the schema")
            try await database.connection.copyFrom(table: table, logger: database.logger) { writer in
                var out = CopyText(capacity: Self.chunkBytes + (64 << 10))
                // The reading blocks this task while a batch is read and processed (on other
                // threads): a load is the only work of its process.
                while let batch = try rows.next() {
                    for row in batch {
                        if let first = firstFID.updateValue(row.fid, forKey: row.id) {
                            throw input.duplicateID(row, firstAt: first)
                        }
                        fid += 1
                        out.integer(fid)
                        out.text(row.id)
                        out.integer(row.fid)
                        out.real(row.area)
                        out.real(row.length)
                        out.real(row.box.minX)
                        out.real(row.box.minY)
                        out.real(row.box.maxX)
                        out.real(row.box.maxY)
                        for a in row.attributes { out.attribute(a) }
                        out.hex(row.blob)
                        out.endRow()
                        if out.buffer.readableBytes >= Self.chunkBytes { try await writer.write(out.take()) }
                    }
                    progress?(rows.counted.count, hint)
                }
                if out.buffer.readableBytes > 0 { try await writer.write(out.take()) }
            }
        } catch let e as StoreError {
            rows.cancel()
            throw e
        } catch {
            rows.cancel()
            throw StoreError.database("\(database.location): copying the features into \(table) failed: \(PostGISDatabase.reason(error))")
        }
        return rows
    }

    /// A source field's name as a PostgreSQL identifier.
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func sqlType(_ type: AttributeType) -> String {
        switch type {
        case .integer: return "bigint"
        case .real: return "double precision"
        case .text: return "text"
        }
    }
}
