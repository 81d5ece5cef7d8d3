import Foundation
import GRDB
import GeoCore
import Synchronization

/// The SpatiaLite database holding every layer and its versions: one writer and a pool of
/// readers in WAL mode, so readers keep seeing the current version while a load is written.
public final class Store: Sendable {
    public let path: String
    /// Where the check records are kept (see `RecordsFile`).
    public let recordsPath: String
    public let pool: DatabasePool
    /// A bare connection that only asks SQLite whether anyone committed since it last
    /// asked (`PRAGMA data_version`): how hot paths learn that the layers may have changed
    /// without opening a read transaction per request.
    private let watcher: DatabaseQueue
    private let watched = Mutex<(dataVersion: Int64, signature: String, generation: Int, checkedAt: UInt64)?>(nil)
    /// Commits through this store that changed the current layers.
    private let commits = LayerCommits()
    /// The layers as published to every consumer (`layerSnapshot`).
    let snapshots = LayerSnapshots()
    /// Keys looked up lately (`KeyRing.lookup`).
    let keyLookups = KeyLookups()
    /// How long a signature read from SQLite is trusted when this store has committed no
    /// layer change since: the longest a load by another process (`onemap load` beside a
    /// running server) goes unseen. 50 ms unless given.
    public let recheckNanoseconds: UInt64

    /// `--db PATH`, else `$ONEMAP_DB`, else `./onemap.sqlite`.
    public static func resolvePath(_ explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = ProcessInfo.processInfo.environment["ONEMAP_DB"], !env.isEmpty { return env }
        return "onemap.sqlite"
    }

    /// Whether a commit must survive a power cut (`synced`), or only a crash of the process
    /// (`cache`: a replica's local copy of a PostgreSQL database, which holds every layer
    /// version and check record and is where each was committed before it was acknowledged;
    /// a copy that lost its last commits copies them again). WAL with `synchronous = NORMAL`
    /// stays consistent after a power cut and skips the fsync per commit.
    public enum Durability: Sendable { case synced, cache }

    public init(path: String, recheckNanoseconds: UInt64 = 50_000_000, durability: Durability = .synced) throws {
        // SQLite would take a URL for a file name and make a file of that name.
        if path.hasPrefix("postgresql://") || path.hasPrefix("postgres://") {
            throw StoreError.invalidRequest(
                "a Store is a SpatiaLite file, not \(path.prefix(while: { $0 != ":" })):// (PostgreSQL is reached through "
                    + "PostGISStore, and read through a local copy of its layers: PostGISMirror)")
        }
        self.path = path
        self.recheckNanoseconds = recheckNanoseconds
        recordsPath = RecordsFile.path(beside: path)
        SpatiaLite.prepareProcess()
        var config = Configuration()
        let recordsPath = recordsPath
        config.prepareDatabase { db in
            guard let connection = db.sqliteConnection else { throw StoreError.database("no SQLite connection") }
            try SpatiaLite.initialize(connection: connection)
            // Map the file instead of copying pages through read(): checks touch pages all over
            // a large layer, and the kernel's page cache then serves every reader at once.
            try db.execute(sql: "PRAGMA mmap_size = 4294967296")
            // A load acknowledged must survive a power cut, not just a crash: sync the WAL on
            // every commit. (The records file, attached here, does the same.)
            let synchronous = durability == .synced ? "FULL" : "NORMAL"
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try RecordsFile.attach(db, path: recordsPath, writer: !db.configuration.readonly, synchronous: synchronous)
        }
        config.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
            var watch = Configuration()
            watch.readonly = true
            watch.busyMode = .timeout(30)
            watcher = try DatabaseQueue(path: path, configuration: watch)
            pool.add(transactionObserver: commits, extent: .databaseLifetime)
        } catch let e as DatabaseError {
            throw StoreError.database("\(path): \(e.message ?? e.description)")
        }
    }

    /// Schema changes are numbered migrations, so an old database upgrades in place.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-layers") { db in
            // Minimal SpatiaLite metadata ('NONE' skips thousands of CRS rows) plus CGCS2000.
            if try !db.tableExists("spatial_ref_sys") {
                _ = try Row.fetchOne(db, sql: "SELECT InitSpatialMetadata(0, 'NONE')")
                _ = try Row.fetchOne(db, sql: "SELECT InsertEpsgSrid(4490)")
            }
            try db.execute(
                sql: """
                    CREATE TABLE onemap_layers(
                        name TEXT PRIMARY KEY,
                        spec TEXT NOT NULL,
                        current_version INTEGER NOT NULL);
                    CREATE TABLE onemap_layer_versions(
                        layer TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        label TEXT NOT NULL,
                        table_name TEXT NOT NULL,
                        geometry_type TEXT NOT NULL,
                        feature_count INTEGER NOT NULL,
                        min_x REAL, min_y REAL, max_x REAL, max_y REAL,
                        fields TEXT NOT NULL,
                        source TEXT NOT NULL,
                        source_crs TEXT,
                        loaded_at TEXT NOT NULL,
                        repaired INTEGER NOT NULL,
                        PRIMARY KEY(layer, version),
                        UNIQUE(layer, label));
                    """)
        }
        m.registerMigration("v2-checks") { _ in
            // 全留痕: every check, with its input, its answer and the versions it read, in
            // tables that refuse updates and deletes. They live in the records file
            // (`RecordsFile.schema`, made when it is attached); databases from before that had
            // them here, and v6/v7 move them.
        }
        m.registerMigration("v3-keys") { db in
            // API keys: only a SHA-256 of the secret is kept, so a copy of the database gives
            // no one a working key. Keys are revoked, never deleted, so records keep their names.
            try db.execute(
                sql: """
                    CREATE TABLE onemap_keys(
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        prefix TEXT NOT NULL,
                        hash BLOB NOT NULL UNIQUE,
                        created_at TEXT NOT NULL,
                        revoked_at TEXT);
                    """)
        }
        m.registerMigration("v4-version-definitions") { db in
            // Each version keeps the definition (title, kind, fields, access, rule) it was
            // loaded under, and how that changed from the version before, if it did. The
            // trigger makes a version without its definition impossible to write.
            try db.execute(
                sql: """
                    ALTER TABLE onemap_layer_versions ADD COLUMN spec TEXT;
                    ALTER TABLE onemap_layer_versions ADD COLUMN definition_change TEXT;
                    UPDATE onemap_layer_versions SET spec = (SELECT l.spec FROM onemap_layers l WHERE l.name = layer);
                    CREATE TRIGGER onemap_layer_versions_need_definition BEFORE INSERT ON onemap_layer_versions
                        WHEN NEW.spec IS NULL OR NEW.spec = ''
                        BEGIN SELECT RAISE(ABORT, 'a layer version is written with its definition'); END;
                    """)
        }
        m.registerMigration("v5-check-geometry") { _ in
            // A record's conflict geometry (overlap pieces, for the report and the GeoJSON) is
            // drawn after its answer is given and kept as immutably as the record, with the
            // records still waiting in a pending table: both in the records file too.
        }
        m.registerMigration("v6-records-file-copy") { db in try RecordsFile.copyFromMain(db) }
        m.registerMigration("v7-records-file-drop") { db in try RecordsFile.dropFromMain(db) }
        m.registerMigration("v9-key-scope") { db in
            // A key may be limited to administrative areas (`keys create --scope 331123`).
            try db.execute(sql: "ALTER TABLE onemap_keys ADD COLUMN scope TEXT")
        }
        m.registerMigration("v8-layer-statistics") { db in
            // Versions loaded before their tables' SpatiaLite statistics were written: from the
            // count and box each version recorded at its load.
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT v.table_name, v.feature_count, v.min_x, v.min_y, v.max_x, v.max_y FROM onemap_layer_versions v
                    JOIN geometry_columns g ON g.f_table_name = lower(v.table_name)
                    """)
            {
                let box: BoundingBox? = (row[2] as Double?).map { BoundingBox($0, row[3], row[4], row[5]) }
                try FeatureTable.registerStatistics(row[0], count: row[1], bbox: box, db: db)
            }
        }
        return m
    }

    /// A read transaction for async callers, run on a Dispatch thread. GRDB's own async read
    /// waits for a free reader on one of the cooperative pool's threads and gives it back on
    /// another; with one such thread per core, a burst of requests left none free to give
    /// readers back, and every request stalled. Dispatch threads may block; these do.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await Blocking.run { try self.snapshot(body) }
    }

    /// One read transaction, as GRDB's `pool.read` gives, for the hot paths (a check, a tile):
    /// GRDB compiles BEGIN, COMMIT and two `PRAGMA query_only` statements anew on every read,
    /// a good part of a small check; here they are prepared once per connection. The reader
    /// connections are read-only already, so nothing is lost by skipping `query_only`.
    public func snapshot<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            let result: T
            do {
                result = try body(db)
            } catch {
                if !db.isInsideTransaction { throw error }
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute()
                throw error
            }
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        }
    }

    // MARK: Reading the catalog of loaded layers

    /// Every layer's name and current version, as one string: equal strings, same layers.
    public static func layerSignature(_ db: Database) throws -> String {
        try String.fetchOne(
            db.cachedStatement(
                sql:
                    "SELECT group_concat(name || ':' || current_version, ',') FROM (SELECT name, current_version FROM onemap_layers ORDER BY name)"
            )) ?? ""
    }

    /// How many layers are loaded.
    public static func layerCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM onemap_layers")) ?? 0
    }

    /// The layer signature as of now, for requests that only need to know whether what they
    /// cached is still current (every tile). A reload through this store is seen at once (its
    /// commit is counted); one by another process within `recheckNanoseconds`, when SQLite is
    /// asked again (`PRAGMA data_version`, which changes whenever any connection commits).
    /// Asking SQLite on every request would cost three system calls and, with two network
    /// threads taking turns on this one connection, a futex wait a tile.
    public func currentLayerSignature() throws -> String { try watch().signature }

    /// The main file's `PRAGMA data_version` as of at most `recheckNanoseconds` ago (or this
    /// store's last layer commit): it changes with every commit to the layers' file by any
    /// process (a key made or revoked by `onemap keys` included), not with the records'.
    public func currentDataVersion() throws -> Int64 { try watch().dataVersion }

    /// The data version as last read, while it is still trusted (`recheckNanoseconds`, and no
    /// layer commit through this store since); nil when SQLite must be asked again. Asks
    /// nothing, so it may run on a request's own thread.
    public func recentDataVersion() -> Int64? {
        let now = DispatchTime.now().uptimeNanoseconds
        let generation = commits.generation
        return watched.withLock { w in
            guard let w, w.generation == generation, now &- w.checkedAt < recheckNanoseconds else { return nil }
            return w.dataVersion
        }
    }

    private func watch() throws -> (dataVersion: Int64, signature: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let generation = commits.generation
        let known = watched.withLock { $0 }
        if let w = known, w.generation == generation, now &- w.checkedAt < recheckNanoseconds { return (w.dataVersion, w.signature) }
        // Never the pool: this runs on request threads, and waiting there for a pool reader
        // while async reads wait for those threads to release theirs is a deadlock. The
        // watcher serialises its own use; the lock is not held over the query, so a request
        // thread never waits on another's SQLite call for it.
        let seen = try watcher.inDatabase { db -> (dataVersion: Int64, signature: String) in
            let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
            if let w = known, w.dataVersion == version { return (version, w.signature) }
            // Remembered under this data_version: a commit after the pragma bumps it again,
            // so the next check reads anew.
            return (version, try Self.layerSignature(db))
        }
        watched.withLock { watched in
            // A query started later may have finished first: keep the latest started.
            if watched.map({ $0.checkedAt <= now }) ?? true { watched = (seen.dataVersion, seen.signature, generation, now) }
        }
        return seen
    }

    public func layers() throws -> [LoadedLayer] {
        try pool.read { db in try Self.layers(db) }
    }

    public func layer(named name: String) throws -> LoadedLayer {
        try pool.read { db in
            guard let l = try Self.layers(db, name: name).first else {
                throw StoreError.unknownLayer(name, known: try String.fetchAll(db, sql: "SELECT name FROM onemap_layers ORDER BY name"))
            }
            return l
        }
    }

    /// The layer's current definition, or nil when no layer has that name.
    public func definition(of name: String) throws -> LayerSpec? {
        try pool.read { db in try Self.layers(db, name: name).first?.spec }
    }

    /// The current version of every layer, inside the caller's transaction.
    public static func loadedLayers(_ db: Database) throws -> [LoadedLayer] { try layers(db) }

    static func layers(_ db: Database, name: String? = nil) throws -> [LoadedLayer] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT l.name, v.* FROM onemap_layers l
                JOIN onemap_layer_versions v ON v.layer = l.name AND v.version = l.current_version
                \(name == nil ? "" : "WHERE l.name = ?") ORDER BY l.name
                """, arguments: name.map { [$0] } ?? [])
        return try rows.map(LoadedLayer.init(row:))
    }
}

/// A layer as loaded: its current version and the definition that version was loaded under.
public struct LoadedLayer: Sendable {
    public var spec: LayerSpec
    public var version: LayerVersion
    public var name: String { spec.name }

    init(row: Row) throws {
        let specJSON: String = row["spec"]
        spec = try JSONDecoder().decode(LayerSpec.self, from: Data(specJSON.utf8))
        version = try LayerVersion(row: row)
    }
}

/// One load of a layer: a table of its features, immutable once committed.
public struct LayerVersion: Sendable, Codable {
    public var number: Int
    public var label: String
    public var tableName: String
    public var geometryType: String
    public var count: Int
    public var bbox: BoundingBox?
    public var fields: [FieldDefinition]
    public var source: String
    public var sourceCRS: String?
    public var loadedAt: String
    public var repaired: Int
    /// How this version's definition differs from the version before, and who changed it;
    /// nil when it is the same.
    public var definitionChange: String?

    /// 0 points, 1 lines, 2 polygons.
    public var dimension: Int { LayerImporter.dimension(ofOGRType: geometryType) ?? 2 }

    init(row: Row) throws {
        number = row["version"]
        label = row["label"]
        tableName = row["table_name"]
        geometryType = row["geometry_type"]
        count = row["feature_count"]
        if let minX: Double = row["min_x"], let minY: Double = row["min_y"],
            let maxX: Double = row["max_x"], let maxY: Double = row["max_y"]
        {
            bbox = BoundingBox(minX, minY, maxX, maxY)
        }
        let fieldsJSON: String = row["fields"]
        fields = try JSONDecoder().decode([FieldDefinition].self, from: Data(fieldsJSON.utf8))
        source = row["source"]
        sourceCRS = row["source_crs"]
        loadedAt = row["loaded_at"]
        repaired = row["repaired"]
        definitionChange = row["definition_change"]
    }
}

extension String {
    /// Quoted as a SQL identifier (`FeatureTable.quote`).
    var sqlIdentifier: String { FeatureTable.quote(self) }
}
