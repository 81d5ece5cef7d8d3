import GRDB
import GeoCore

/// One layer version's features as the SpatiaLite store keeps them: a table with the columns
/// every feature has (`om_*`, `geom`) and the layer's own fields, and an R*Tree over their
/// boxes. This is the one place that names them, quotes identifiers and writes the queries
/// that read them; the checker, the tiles and the feature API ask it for their SQL.
///
/// Why one owner: a PostGIS store keeps the same features in its own layout and dialect
/// (a GiST index, not a side table; `&&` for box tests). Consumers that say what they read
/// (`Column`s, a box, an order) rather than write SQL can be answered by either store.
public struct FeatureTable: Sendable, Hashable {
    /// The table's name.
    public let name: String
    /// The layer's attribute fields, in the table's column order.
    public let fields: [String]

    public init(_ version: LayerVersion) {
        self.init(name: version.tableName, fields: version.fields.map(\.name))
    }

    public init(name: String, fields: [String]) {
        self.name = name
        self.fields = fields
    }

    /// The table of version `version` of layer `layer`.
    public init(layer: String, version: Int, fields: [String]) {
        self.init(name: "lyr_\(layer)_\(version)", fields: fields)
    }

    /// The R*Tree over the features' boxes (`pkid` is the feature's fid).
    var indexName: String { "idx_\(name)_geom" }

    /// Writes the rows SpatiaLite keeps beside `geometry_columns` for a spatial table: its
    /// feature count and extent (`geometry_columns_statistics`, which GIS tools read for a
    /// layer's count and extent: without it QGIS's SpatiaLite provider shows an empty layer),
    /// and its access and change-time rows. SpatiaLite's `AddGeometryColumn` writes them; a
    /// version's table is registered directly, and its count and box are known from the load.
    static func registerStatistics(_ table: String, count: Int, bbox: BoundingBox?, db: Database) throws {
        let name = table.lowercased()
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO geometry_columns_statistics(f_table_name, f_geometry_column, last_verified, row_count,
                    extent_min_x, extent_min_y, extent_max_x, extent_max_y)
                VALUES (?, 'geom', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?, ?)
                """, arguments: [name, count, bbox?.minX, bbox?.minY, bbox?.maxX, bbox?.maxY])
        try db.execute(
            sql:
                "INSERT OR REPLACE INTO geometry_columns_auth(f_table_name, f_geometry_column, read_only, hidden) VALUES (?, 'geom', 0, 0)",
            arguments: [name])
        try db.execute(
            sql: "INSERT OR REPLACE INTO geometry_columns_time(f_table_name, f_geometry_column) VALUES (?, 'geom')", arguments: [name])
    }

    /// Removes a table's SpatiaLite registration (`geometry_columns` and the rows beside it).
    static func unregister(_ table: String, db: Database) throws {
        for catalog in ["geometry_columns_statistics", "geometry_columns_auth", "geometry_columns_time", "geometry_columns"] {
            try db.execute(sql: "DELETE FROM \(catalog) WHERE f_table_name = lower(?)", arguments: [table])
        }
    }

    /// Drops the table and its R*Tree, if there.
    /// The version's tables: its features, its R*Tree, and a land-use version's sums by unit.
    var dropSQL: String {
        [name, indexName, LandUseUnits.table(of: name)].map { "DROP TABLE IF EXISTS \(Self.quote($0))" }.joined(separator: "; ")
    }

    /// A SQL identifier, quoted: table and field names come from layer definitions and source
    /// files, and may hold anything, quotes included.
    public static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// What a query can read of a feature.
    public enum Column: Sendable, Hashable {
        /// The row id, 1… in load order; the R*Tree's key.
        case fid
        /// The catalog's id of the feature (NOT NULL, unique in a version).
        case id
        /// The feature's id in its source file.
        case sourceFid
        /// Ellipsoidal area (m²) and length (m), computed at load.
        case areaM2, lengthM
        /// The SpatiaLite geometry blob, and its size in bytes.
        case geometry, geometryBytes
        /// The box: four columns, min x, min y, max x, max y (lon/lat).
        case box
        /// One attribute field.
        case field(String)
        /// Every attribute field, in the table's order.
        case fields
    }

    /// The select list for `columns`, each prefixed with `alias.` when given.
    public func columns(_ columns: [Column], alias: String? = nil) -> String {
        let prefix = alias.map { $0 + "." } ?? ""
        var out: [String] = []
        for column in columns {
            switch column {
            case .fid: out.append(prefix + "om_fid")
            case .id: out.append(prefix + "om_id")
            case .sourceFid: out.append(prefix + "om_source_fid")
            case .areaM2: out.append(prefix + "om_area_m2")
            case .lengthM: out.append(prefix + "om_length_m")
            case .geometry: out.append(prefix + "geom")
            case .geometryBytes: out.append("length(\(prefix)geom)")
            case .box: out += ["om_minx", "om_miny", "om_maxx", "om_maxy"].map { prefix + $0 }
            case .field(let name): out.append(prefix + Self.quote(name))
            case .fields: out += fields.map { prefix + Self.quote($0) }
            }
        }
        return out.joined(separator: ", ")
    }

    /// Features whose box meets a query box, given as four arguments: min x, max x, min y,
    /// max y. In the R*Tree's order unless `byFid`.
    ///
    /// A join with the R*Tree, not `om_fid IN (SELECT pkid …)`: SQLite builds a temporary
    /// b-tree for an IN list on every query, which costs more than the search itself.
    public func inBox(_ columns: [Column], byFid: Bool = false) -> String {
        """
        SELECT \(self.columns(columns, alias: "t")) FROM \(Self.quote(indexName)) AS r JOIN \(Self.quote(name)) AS t \
        ON t.om_fid = r.pkid WHERE r.xmax >= ? AND r.xmin <= ? AND r.ymax >= ? AND r.ymin <= ?\(byFid ? " ORDER BY t.om_fid" : "")
        """
    }

    /// A condition for `select`'s `where`: the feature's box meets a query box, given as
    /// four arguments (min x, max x, min y, max y), as for `inBox`.
    public var boxMeets: String {
        "om_fid IN (SELECT pkid FROM \(Self.quote(indexName)) WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?)"
    }

    /// An order for `select`: a field or column, ascending or not.
    public struct Order: Sendable {
        public var column: Column
        public var ascending: Bool
        public init(_ column: Column, ascending: Bool = true) {
            self.column = column
            self.ascending = ascending
        }
    }

    /// Features where every one of `conditions` holds (SQL over the columns, with `?`
    /// arguments), in `order` then by fid; `paged` adds a LIMIT and an OFFSET argument.
    public func select(_ columns: [Column], where conditions: [String] = [], order: [Order] = [], paged: Bool = false) -> String {
        let sorting = (order.map { self.columns([$0.column]) + ($0.ascending ? " ASC" : " DESC") } + ["om_fid"]).joined(separator: ", ")
        return
            "SELECT \(self.columns(columns)) FROM \(Self.quote(name))\(whereClause(conditions)) ORDER BY \(sorting)\(paged ? " LIMIT ? OFFSET ?" : "")"
    }

    /// How many features meet every one of `conditions`.
    public func count(where conditions: [String]) -> String {
        "SELECT COUNT(*) FROM \(Self.quote(name))\(whereClause(conditions))"
    }

    /// One feature by fid (one argument). With `alias` "t" its columns are those `inBox` gives.
    public func byFid(_ columns: [Column]) -> String {
        "SELECT \(self.columns(columns, alias: "t")) FROM \(Self.quote(name)) AS t WHERE t.om_fid = ?"
    }

    /// One feature by the catalog's id (one argument).
    public func byId(_ columns: [Column]) -> String {
        "SELECT \(self.columns(columns)) FROM \(Self.quote(name)) WHERE om_id = ?"
    }

    /// The total size of the geometry of the features whose ids a JSON array (one argument) lists.
    public var geometryBytesOfIds: String {
        "SELECT SUM(length(geom)) FROM \(Self.quote(name)) WHERE om_id IN (SELECT value FROM json_each(?))"
    }

    /// The largest geometry blob's size.
    public var largestGeometryBytes: String { "SELECT MAX(length(geom)) FROM \(Self.quote(name))" }

    /// The distinct values of a field, ascending, nulls left out.
    public func distinctValues(of field: String) -> String {
        "SELECT DISTINCT \(Self.quote(field)) FROM \(Self.quote(name)) WHERE \(Self.quote(field)) IS NOT NULL ORDER BY 1"
    }

    private func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : " WHERE " + conditions.map { "(\($0))" }.joined(separator: " AND ")
    }

    /// A condition that a field equals an argument.
    public func equals(_ field: String) -> String { "\(Self.quote(field)) = ?" }
}
