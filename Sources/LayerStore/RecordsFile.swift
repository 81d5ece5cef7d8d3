import Foundation
import GRDB

/// The check records and access records (全留痕) in a SQLite file of their own beside the layers' database,
/// attached to every connection as `records`, so SQL names their tables as before.
///
/// Why a file of its own: a server stores a record with every check, dozens a second. In the
/// layers' file, each of those commits would make every reader drop its page cache (SQLite
/// cannot tell which pages another connection changed), grow the file so that its memory map
/// is remapped, and change `PRAGMA data_version`, so every check would re-read the layer
/// catalog. In a file of their own, the records' commits leave the layers' file, its caches
/// and its map untouched.
///
/// Back up both files together: a record names the layer versions it read, and those versions
/// are kept while records need them.
enum RecordsFile {
    /// `onemap.sqlite` → `onemap-records.sqlite`; any other name gets `-records.sqlite` added.
    static func path(beside database: String) -> String {
        let url = URL(fileURLWithPath: database)
        let stem = url.pathExtension == "sqlite" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent(stem + "-records.sqlite").path
    }

    /// Attaches the records file to a connection; the writer also creates it, and its tables,
    /// when missing. Records must survive a power cut once acknowledged, as layers must: synced
    /// on every commit (`synchronous` FULL; NORMAL for a replica's copy, see `Store.Durability`).
    /// They are read rarely, so they are not memory-mapped.
    static func attach(_ db: Database, path: String, writer: Bool, synchronous: String = "FULL") throws {
        try db.execute(sql: "ATTACH DATABASE ? AS records", arguments: [path])
        if writer {
            try db.execute(sql: "PRAGMA records.journal_mode = WAL")
            try db.execute(sql: schema)
        }
        try db.execute(sql: "PRAGMA records.synchronous = \(synchronous)")
        try db.execute(sql: "PRAGMA records.mmap_size = 0")
    }

    /// The tables as databases from before the records file have them in the layers' file
    /// (same columns, same order, so rows copy across with `SELECT *`), with their
    /// immutability triggers. The one definition: the migrations that once made them there no
    /// longer do.
    static let schema = """
        CREATE TABLE IF NOT EXISTS records.onemap_checks(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            project_code TEXT,
            project_name TEXT,
            key_name TEXT,
            verdict TEXT NOT NULL,
            input_format TEXT NOT NULL,
            input BLOB NOT NULL,
            site TEXT NOT NULL,
            layer_versions TEXT NOT NULL,
            result BLOB NOT NULL,
            geojson BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS records.onemap_checks_project ON onemap_checks(project_code, seq);
        CREATE TRIGGER IF NOT EXISTS records.onemap_checks_no_update BEFORE UPDATE ON onemap_checks
            BEGIN SELECT RAISE(ABORT, 'check records are immutable'); END;
        CREATE TRIGGER IF NOT EXISTS records.onemap_checks_no_delete BEFORE DELETE ON onemap_checks
            BEGIN SELECT RAISE(ABORT, 'check records are immutable'); END;
        CREATE TABLE IF NOT EXISTS records.onemap_check_geometry(
            check_id TEXT PRIMARY KEY REFERENCES onemap_checks(id),
            geojson BLOB NOT NULL);
        CREATE TRIGGER IF NOT EXISTS records.onemap_check_geometry_no_update BEFORE UPDATE ON onemap_check_geometry
            BEGIN SELECT RAISE(ABORT, 'check records are immutable'); END;
        CREATE TRIGGER IF NOT EXISTS records.onemap_check_geometry_no_delete BEFORE DELETE ON onemap_check_geometry
            BEGIN SELECT RAISE(ABORT, 'check records are immutable'); END;
        CREATE TABLE IF NOT EXISTS records.onemap_check_geometry_pending(
            check_id TEXT PRIMARY KEY REFERENCES onemap_checks(id));
        CREATE TABLE IF NOT EXISTS records.onemap_record_chain(
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,
            hash BLOB NOT NULL);
        CREATE TRIGGER IF NOT EXISTS records.onemap_record_chain_no_update BEFORE UPDATE ON onemap_record_chain
            BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS records.onemap_record_chain_no_delete BEFORE DELETE ON onemap_record_chain
            BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END;
        CREATE TABLE IF NOT EXISTS records.onemap_access(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            subject TEXT,
            route TEXT NOT NULL,
            layer TEXT NOT NULL,
            what TEXT NOT NULL,
            returned INTEGER,
            request_id TEXT);
        CREATE INDEX IF NOT EXISTS records.onemap_access_at ON onemap_access(at);
        CREATE TRIGGER IF NOT EXISTS records.onemap_access_no_update BEFORE UPDATE ON onemap_access
            BEGIN SELECT RAISE(ABORT, 'access records are immutable'); END;
        CREATE TRIGGER IF NOT EXISTS records.onemap_access_no_delete BEFORE DELETE ON onemap_access
            BEGIN SELECT RAISE(ABORT, 'access records are immutable'); END;
        CREATE TABLE IF NOT EXISTS records.onemap_access_chain(
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,
            hash BLOB NOT NULL);
        CREATE TRIGGER IF NOT EXISTS records.onemap_access_chain_no_update BEFORE UPDATE ON onemap_access_chain
            BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS records.onemap_access_chain_no_delete BEFORE DELETE ON onemap_access_chain
            BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END;
        -- A replica's last access record the shared database has taken (`AccessRecords`).
        CREATE TABLE IF NOT EXISTS records.onemap_access_shipped(id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL);
        """

    /// The tables that move, children first (dropped in this order, copied in the reverse).
    private static let tables = ["onemap_check_geometry_pending", "onemap_check_geometry", "onemap_checks"]

    /// Copies the records kept in the layers' file (databases from before the move) into the
    /// records file; copying twice keeps one of each.
    static func copyFromMain(_ db: Database) throws {
        for table in tables.reversed() where try db.tableExists(table, in: "main") {
            try db.execute(sql: "INSERT OR IGNORE INTO records.\(table) SELECT * FROM main.\(table)")
        }
    }

    /// Drops the layers' file's own record tables, once every row of them is in the records
    /// file. Run in a transaction after the copy's has committed: a transaction over two WAL
    /// files is atomic in each but not across them, so the copy is checked, and made again if
    /// the records file's half of it was lost, before anything is dropped.
    static func dropFromMain(_ db: Database) throws {
        guard try db.tableExists("onemap_checks", in: "main") else { return }
        try copyFromMain(db)
        for table in tables where try db.tableExists(table, in: "main") {
            let key = table == "onemap_checks" ? "id" : "check_id"
            let missing =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM main.\(table) m WHERE NOT EXISTS (SELECT 1 FROM records.\(table) r WHERE r.\(key) = m.\(key))
                        """) ?? 0
            guard missing == 0 else {
                throw StoreError.database(
                    "moving check records: \(missing) rows of \(table) did not reach the records file; the layers' file keeps them")
            }
        }
        // DROP TABLE empties a table without firing its delete triggers.
        for table in tables where try db.tableExists(table, in: "main") {
            try db.execute(sql: "DROP TABLE main.\(table)")
        }
    }
}
