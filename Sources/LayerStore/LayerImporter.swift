import Foundation
import GRDB
import GeoCore
import VectorIO

/// What an import did, for the CLI's report and `--json`.
public struct ImportReport: Codable, Sendable {
    public var layer: String
    public var version: Int
    public var label: String
    public var count: Int
    public var geometryType: String
    public var bbox: [Double]?
    public var sourceCRS: String
    public var encoding: String
    /// Features whose invalid geometry was repaired with GEOS MakeValid.
    public var repaired: Int
    /// The first repaired features, with GEOS's reason.
    public var repairs: [String]
    public var warnings: [String]
    /// How the definition differs from the version before (empty when it is the same).
    public var definitionChanges: [String]
    public var seconds: Double

    package init(
        layer: String, version: Int, label: String, count: Int, geometryType: String, bbox: [Double]?, sourceCRS: String,
        encoding: String, repaired: Int, repairs: [String], warnings: [String], definitionChanges: [String], seconds: Double
    ) {
        self.layer = layer
        self.version = version
        self.label = label
        self.count = count
        self.geometryType = geometryType
        self.bbox = bbox
        self.sourceCRS = sourceCRS
        self.encoding = encoding
        self.repaired = repaired
        self.repairs = repairs
        self.warnings = warnings
        self.definitionChanges = definitionChanges
        self.seconds = seconds
    }
}

/// Loads one source into a new version of a layer, in one transaction: readers see the old
/// version until the commit, and a failed or killed import leaves it intact.
public struct LayerImporter {
    public static let storageSRID: Int32 = 4490
    public static let storageCRS = "EPSG:4490"
    /// Columns OneMap adds to each feature table; source fields may not use these names.
    static let reservedColumns: Set<String> = [
        "om_fid", "om_id", "om_source_fid", "om_area_m2", "om_length_m",
        "om_minx", "om_miny", "om_maxx", "om_maxy", "geom"
    ]
    package static let maxListedRepairs = 20

    public let store: Store
    public var progress: ((Int, Int?) -> Void)?

    public init(store: Store, progress: ((Int, Int?) -> Void)? = nil) {
        self.store = store
        self.progress = progress
    }

    /// Loads `spec`'s source as a new version of its layer, stored with `spec` as its
    /// definition. `authority` says whether that may differ from the layer's stored definition.
    public func load(_ spec: LayerSpec, label: String? = nil, authority: DefinitionAuthority = .catalog) throws -> ImportReport {
        let started = Date()
        let input = try ImportSource.open(spec)
        var report = try store.pool.write { db -> ImportReport in
            // A bigger page cache for the load only (32 MiB): the id index and the R*Tree stay hot.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            let version =
                (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM onemap_layer_versions WHERE layer = ?", arguments: [spec.name]) ?? 0)
                + 1
            let versionLabel = try Self.uniqueLabel(db, layer: spec.name, wanted: label)
            let table = FeatureTable(layer: spec.name, version: version, fields: input.source.fields.map(\.name)).name
            let index = FeatureTable(name: table, fields: []).indexName
            let insert = try Self.createTable(table, index: index, fields: input.source.fields, db: db)
            var (rows, rtree) = try copyFeatures(input, into: insert, table: table, db: db)
            var warnings = try rows.valueWarnings()
            let definition = try VersionDefinition(db, spec: spec, authority: authority)
            warnings += definition.warnings
            let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            // The R*Tree (in SpatiaLite's layout, so its SQL and QGIS use it too) is written
            // after the table: its nodes lie together at the file's end, and a search in a
            // fresh process touches a few neighbouring pages, not pages scattered among the
            // features' (a third less time for a search alone at 500k parcels).
            try rtree.write(index, db: db)
            let copied = rows.counted
            if input.landUse != nil { try copied.units.write(beside: table, db: db) }
            progress?(copied.count, input.source.featureCountHint)
            warnings += rows.extentWarnings
            try Self.register(
                input, version: version, label: versionLabel, table: table, geometryType: rows.geometryType,
                copied: copied, specJSON: specJSON, note: definition.note, db: db)
            return ImportReport(
                layer: spec.name, version: version, label: versionLabel, count: copied.count,
                geometryType: rows.geometryType, bbox: copied.bbox?.array, sourceCRS: input.crs, encoding: input.source.encodingNote,
                repaired: copied.repaired, repairs: copied.repairs, warnings: warnings,
                definitionChanges: definition.changes, seconds: 0)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Creates a new version's feature table, with OneMap's columns and the source's fields,
    /// and prepares the insert of a feature into it.
    static func createTable(_ table: String, index: String, fields: [FieldDefinition], db: Database) throws -> RowInsert {
        // A previous killed load of the same number left nothing (it rolled back), but a
        // pruned version may have: start clean.
        try db.execute(sql: FeatureTable(name: table, fields: []).dropSQL)
        try ParcelLandUseTable.drop(beside: table, db: db)
        let columns = fields.map { "\($0.name.sqlIdentifier) \($0.type.rawValue.uppercased())" }
        try db.execute(
            sql: """
                CREATE TABLE \(table.sqlIdentifier)(
                    om_fid INTEGER PRIMARY KEY,
                    om_id TEXT NOT NULL UNIQUE,
                    om_source_fid INTEGER NOT NULL,
                    om_area_m2 REAL NOT NULL,
                    om_length_m REAL NOT NULL,
                    om_minx REAL NOT NULL, om_miny REAL NOT NULL, om_maxx REAL NOT NULL, om_maxy REAL NOT NULL,
                    \(columns.map { $0 + ",\n" }.joined())geom BLOB NOT NULL)
                """)
        return try insert(into: table, fields: fields, db: db)
    }

    /// The insert of a feature into a version's table (`RowInsert.feature` binds it).
    static func insert(into table: String, fields: [FieldDefinition], db: Database) throws -> RowInsert {
        let placeholders = Array(repeating: "?", count: 9 + fields.count).joined(separator: ",")
        return RowInsert(
            statement: try db.makeStatement(
                sql: """
                    INSERT INTO \(table.sqlIdentifier)(om_id, om_source_fid, om_area_m2, om_length_m, om_minx, om_miny, om_maxx, om_maxy,
                    \(fields.map { $0.name.sqlIdentifier + "," }.joined())geom) VALUES (\(placeholders))
                    """))
    }

    /// What a version's geometry column holds, by the layer's dimension (0, 1, 2).
    package static let geometryTypes = ["MultiPoint", "MultiLineString", "MultiPolygon"]

    /// Reads the source's features (`ImportRows`) and inserts the rows in the source's order,
    /// reporting progress after each batch; returns the rows' counts and their R*Tree.
    private func copyFeatures(
        _ input: ImportSource, into insert: RowInsert, table: String, db: Database
    ) throws -> (ImportRows, PackedRTree) {
        var rows = try ImportRows(input, encoding: .spatiaLite)
        var rtree = PackedRTree()
        do {
            while let batch = try rows.next() {
                for row in batch {
                    do {
                        try insert.feature(
                            id: row.id, sourceFID: row.fid, area: row.area, length: row.length, box: row.box, attributes: row.attributes,
                            blob: row.blob)
                    } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
                        let first = try Int64.fetchOne(
                            db, sql: "SELECT om_source_fid FROM \(table.sqlIdentifier) WHERE om_id = ?", arguments: [row.id])
                        throw input.duplicateID(row, firstAt: first)
                    }
                    rtree.add(id: db.lastInsertedRowID, box: row.box)
                }
                progress?(rows.counted.count, input.source.featureCountHint)
            }
        } catch {
            rows.cancel()
            throw error
        }
        return (rows, rtree)
    }

    /// Registers the table with SpatiaLite, so its SQL functions and QGIS see a spatial table,
    /// and records the version as the layer's current one.
    private static func register(
        _ input: ImportSource, version: Int, label: String, table: String, geometryType: String,
        copied: ImportRows.Counted, specJSON: String, note: String?, db: Database
    ) throws {
        try register(
            RegisteredVersion(
                spec: input.spec, version: version, label: label, table: table, geometryType: geometryType,
                dimension: input.dimension, count: copied.count, bbox: copied.bbox, fields: input.source.fields,
                sourceCRS: input.crs, loadedAt: timestamp(Date()), repaired: copied.repaired, specJSON: specJSON, note: note),
            db: db)
    }

    /// What `onemap_layer_versions` says of a version.
    struct RegisteredVersion {
        var spec: LayerSpec
        var version: Int
        var label: String
        var table: String
        var geometryType: String
        var dimension: Int
        var count: Int
        var bbox: BoundingBox?
        var fields: [FieldDefinition]
        var sourceCRS: String
        var loadedAt: String
        var repaired: Int
        var specJSON: String
        var note: String?
        /// False for an older version copied in later (`MirrorWriter`): registered, not made current.
        var current = true
    }

    static func register(_ v: RegisteredVersion, db: Database) throws {
        let (spec, version, label, table, geometryType, bbox) = (v.spec, v.version, v.label, v.table, v.geometryType, v.bbox)
        try db.execute(
            sql: """
                INSERT INTO geometry_columns(f_table_name, f_geometry_column, geometry_type, coord_dimension, srid, spatial_index_enabled)
                VALUES (lower(?), 'geom', ?, 2, ?, 1)
                """, arguments: [table, [4, 5, 6][v.dimension], storageSRID])
        try FeatureTable.registerStatistics(table, count: v.count, bbox: bbox, db: db)
        let fieldsJSON = String(decoding: try JSONEncoder().encode(v.fields), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO onemap_layer_versions(layer, version, label, table_name, geometry_type, feature_count,
                    min_x, min_y, max_x, max_y, fields, source, source_crs, loaded_at, repaired, spec, definition_change)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """,
            arguments: [
                spec.name, version, label, table, geometryType, v.count,
                bbox?.minX, bbox?.minY, bbox?.maxX, bbox?.maxY, fieldsJSON, spec.source, v.sourceCRS,
                v.loadedAt, v.repaired, v.specJSON, v.note
            ])
        try db.execute(
            sql: """
                INSERT INTO onemap_layers(name, spec, current_version) VALUES (?,?,?)
                ON CONFLICT(name) DO \(v.current ? "UPDATE SET spec = excluded.spec, current_version = excluded.current_version" : "NOTHING")
                """, arguments: [spec.name, v.specJSON, version])
    }

    /// The values of a rule's `by_field` that its table does not name, counted, with the first
    /// feature holding each: what a refused load tells the user to add to the catalog.
    struct UnmappedValues {
        private var counts: [String: (count: Int, first: String)] = [:]
        private(set) var count = 0
        var isEmpty: Bool { count == 0 }

        mutating func add(_ value: String?, at feature: String) {
            count += 1
            let key = value.map { "'\($0)'" } ?? "(none)"
            counts[key, default: (0, feature)].count += 1
        }

        /// The ten commonest, e.g. "'核心保护区' ×12 (first BSM=…), (none) ×1 (first …)".
        var summary: String {
            let top = counts.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
            var s = top.prefix(10).map { "\($0.key) ×\($0.value.count) (first \($0.value.first))" }.joined(separator: ", ")
            if top.count > 10 { s += ", and \(top.count - 10) more values" }
            return s
        }
    }

    static func dimension(ofOGRType name: String) -> Int? {
        if name.contains("Polygon") || name.contains("Surface") { return 2 }
        if name.contains("Line") || name.contains("Curve") { return 1 }
        if name.contains("Point") { return 0 }
        return nil
    }

    static func dimensionName(_ d: Int?) -> String {
        switch d {
        case 0: return "points"
        case 1: return "lines"
        case 2: return "polygons"
        default: return "an unknown geometry type"
        }
    }

    package static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// The label asked for (which must be new), or the load time, made unique.
    static func uniqueLabel(_ db: Database, layer: String, wanted: String?) throws -> String {
        let taken = Set(try String.fetchAll(db, sql: "SELECT label FROM onemap_layer_versions WHERE layer = ?", arguments: [layer]))
        return try uniqueLabel(layer: layer, taken: taken, wanted: wanted)
    }

    /// The same, given the labels the layer's versions have.
    package static func uniqueLabel(layer: String, taken: Set<String>, wanted: String?) throws -> String {
        if let wanted {
            // Labels name versions in diffs, URLs and reports: printable, one line, not blank.
            guard (1...64).contains(wanted.count), !wanted.allSatisfy(\.isWhitespace),
                !wanted.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw StoreError.invalidRequest(
                    "a version label is 1 to 64 printable characters, not all blank; got '\(wanted.prefix(80))'")
            }
            guard !taken.contains(wanted) else { throw StoreError.conflict("layer '\(layer)' already has a version labelled '\(wanted)'") }
            return wanted
        }
        let base = timestamp(Date())
        var label = base
        var n = 2
        while taken.contains(label) { label = "\(base)-\(n)"; n += 1 }
        return label
    }
}
