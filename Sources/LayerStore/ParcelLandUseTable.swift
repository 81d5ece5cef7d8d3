import GRDB

/// The 地类 under every 永久基本农田 parcel of one farmland version, by the 图斑 of one land-use
/// version: for each parcel, the area it shares with each 图斑 and that 图斑's code and
/// deduction. Kept in a table of its own for the pair of versions, and registered in
/// `onemap_parcel_land_use`, so that dropping either version drops it too.
///
/// Why stored: a check's `farmlandByCode` otherwise overlays every parcel in the site with every
/// 图斑 under it and the site, three ways; that was over half of a 20 ha site's check on the
/// bench's city. With the pairs known, a parcel inside the site adds its pieces as they are,
/// and one on the site's edge lying in a single 图斑 takes that 图斑's code for its overlap.
public enum ParcelLandUseTable {
    /// One parcel's share of one 图斑.
    public struct Piece: Sendable, Equatable {
        public var parcelFid: Int64
        public var tubanFid: Int64
        public var code: String
        public var deductCode: String?
        public var deductRatio: Double
        public var areaM2: Double
        /// The parcel lies in this one 图斑 (its other shares, and any part in no 图斑, below
        /// `ParcelLandUseTable.wholeToleranceM2`).
        public var whole: Bool

        public init(parcelFid: Int64, tubanFid: Int64, code: String, deductCode: String?, deductRatio: Double, areaM2: Double, whole: Bool)
        {
            self.parcelFid = parcelFid
            self.tubanFid = tubanFid
            self.code = code
            self.deductCode = deductCode
            self.deductRatio = deductRatio
            self.areaM2 = areaM2
            self.whole = whole
        }
    }

    /// What a parcel may leave outside its one 图斑 and still count as lying in it.
    public static let wholeToleranceM2 = 1e-4

    static let registry = "onemap_parcel_land_use"

    /// The table's name for a farmland and a land-use version's feature tables.
    public static func name(farmland: String, landUse: String) -> String { "\(farmland)_on_\(landUse)" }

    /// Replaces the pair's table with `pieces` (in parcel order), in the caller's transaction.
    public static func write(_ pieces: [Piece], farmland: String, landUse: String, parcels: Int, db: Database) throws {
        try createRegistry(db)
        let table = name(farmland: farmland, landUse: landUse)
        let quoted = FeatureTable.quote(table)
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS \(quoted);
                CREATE TABLE \(quoted)(parcel_fid INTEGER NOT NULL, tuban_fid INTEGER NOT NULL, code TEXT NOT NULL, deduct_code TEXT,
                    deduct_ratio REAL NOT NULL, area_m2 REAL NOT NULL, whole INTEGER NOT NULL)
                """)
        let insert = try db.makeStatement(sql: "INSERT INTO \(quoted) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for p in pieces {
            try insert.execute(arguments: [p.parcelFid, p.tubanFid, p.code, p.deductCode, p.deductRatio, p.areaM2, p.whole])
        }
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO \(registry)(table_name, farmland_table, land_use_table, parcels, pieces, made_at)
                VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                """, arguments: [table, farmland, landUse, parcels, pieces.count])
    }

    /// The pair's counts, read without its rows: parcels, pieces, and parcels lying in one
    /// 图斑; nil when the pieces were never worked out.
    public static func counts(farmland: String, landUse: String, db: Database) throws -> (parcels: Int, pieces: Int, inOne: Int)? {
        let table = name(farmland: farmland, landUse: landUse)
        guard try isThere(table, db: db),
            let row = try Row.fetchOne(db, sql: "SELECT parcels, pieces FROM \(registry) WHERE table_name = ?", arguments: [table])
        else { return nil }
        let inOne = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(FeatureTable.quote(table)) WHERE whole") ?? 0
        return (row[0], row[1], inOne)
    }

    /// The pair's pieces in parcel order, or nil when they were never worked out.
    public static func read(farmland: String, landUse: String, db: Database) throws -> [Piece]? {
        let table = name(farmland: farmland, landUse: landUse)
        guard try isThere(table, db: db) else { return nil }
        var pieces: [Piece] = []
        let rows = try Row.fetchCursor(
            db,
            sql:
                "SELECT parcel_fid, tuban_fid, code, deduct_code, deduct_ratio, area_m2, whole FROM \(FeatureTable.quote(table)) ORDER BY rowid"
        )
        while let r = try rows.next() {
            pieces.append(
                Piece(parcelFid: r[0], tubanFid: r[1], code: r[2], deductCode: r[3], deductRatio: r[4], areaM2: r[5], whole: r[6]))
        }
        return pieces
    }

    /// Whether a pair's table was written (and registered).
    private static func isThere(_ table: String, db: Database) throws -> Bool {
        try db.tableExists(registry)
            && Bool.fetchOne(db, sql: "SELECT 1 FROM \(registry) WHERE table_name = ?", arguments: [table]) != nil
            && db.tableExists(table)
    }

    /// Drops every pair's table one side of which is `featureTable` (a version being dropped,
    /// or a version number a new load reuses).
    static func drop(beside featureTable: String, db: Database) throws {
        guard try db.tableExists(registry) else { return }
        let tables = try String.fetchAll(
            db, sql: "SELECT table_name FROM \(registry) WHERE farmland_table = ? OR land_use_table = ?",
            arguments: [featureTable, featureTable])
        for t in tables { try db.execute(sql: "DROP TABLE IF EXISTS \(FeatureTable.quote(t))") }
        try db.execute(
            sql: "DELETE FROM \(registry) WHERE farmland_table = ? OR land_use_table = ?", arguments: [featureTable, featureTable])
    }

    private static func createRegistry(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS \(registry)(table_name TEXT PRIMARY KEY, farmland_table TEXT NOT NULL,
                    land_use_table TEXT NOT NULL, parcels INTEGER NOT NULL, pieces INTEGER NOT NULL, made_at TEXT NOT NULL)
                """)
    }
}
