import Foundation
import GeoCore
import LayerStore
import Logging
import PostgresNIO

/// One connection to a OneMap database on PostgreSQL: it checks on opening that PostGIS is
/// there and that OneMap's schema is one this build knows (creating it in an empty database),
/// and it turns the driver's errors into messages that say what failed and where.
public final class PostGISDatabase: Sendable {
    /// The version of OneMap's schema (`onemap.meta`): a database written by a newer OneMap is
    /// refused rather than misread.
    public static let schemaVersion = 3
    /// OneMap's own tables (catalog, versions) and the layers' version tables live here.
    static let schema = "onemap"
    /// A load notifies this channel with "layer:version" when it commits.
    public static let versionsChannel = "onemap_versions"
    /// A replica notifies this channel with a check's id when its record is stored.
    public static let checksChannel = "onemap_checks"
    /// Notified when a key is made or revoked.
    public static let keysChannel = "onemap_keys"

    public let location: PostGISLocation
    let connection: PostgresConnection
    let logger: Logger

    private init(location: PostGISLocation, connection: PostgresConnection, logger: Logger) {
        self.location = location
        self.connection = connection
        self.logger = logger
    }

    /// Connects to `location`, and prepares OneMap's schema there.
    public static func open(_ location: PostGISLocation) async throws -> PostGISDatabase {
        var logger = Logger(label: "onemap.postgis")
        logger.logLevel = .error
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try location.configuration(), id: 1, logger: logger)
        } catch {
            throw StoreError.database("cannot connect to \(location): \(Self.reason(error))")
        }
        let db = PostGISDatabase(location: location, connection: connection, logger: logger)
        do {
            try await db.prepareSchema()
        } catch {
            try? await connection.close()
            throw error
        }
        return db
    }

    public func close() async {
        try? await connection.close()
    }

    /// Opens `location`, runs `body` with it, and closes it whatever `body` does.
    public static func with<T>(_ location: PostGISLocation, _ body: (PostGISDatabase) async throws -> T) async throws -> T {
        let db = try await open(location)
        do {
            let value = try await body(db)
            await db.close()
            return value
        } catch {
            await db.close()
            throw error
        }
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(_ doing: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
        try await execute("BEGIN", "starting \(doing())")
        do {
            let value = try await body()
            try await execute("COMMIT", "committing \(doing())")
            return value
        } catch {
            try? await execute("ROLLBACK", "rolling back \(doing())")
            throw error
        }
    }

    /// Runs `sql`, the error naming what was being done.
    func execute(_ sql: PostgresQuery, _ doing: @autoclosure () -> String) async throws {
        do {
            _ = try await connection.query(sql, logger: logger).collect()
        } catch {
            throw StoreError.database("\(location): \(doing()) failed: \(Self.reason(error))")
        }
    }

    /// The rows of `sql`, decoded as `T`.
    func rows<T: PostgresDecodable & Sendable>(_ sql: PostgresQuery, as: T.Type, _ doing: @autoclosure () -> String) async throws -> [T] {
        do {
            var out: [T] = []
            for try await value in try await connection.query(sql, logger: logger).decode(T.self) { out.append(value) }
            return out
        } catch {
            throw StoreError.database("\(location): \(doing()) failed: \(Self.reason(error))")
        }
    }

    /// The layer's stored definition (its current version's), nil for a layer not loaded yet.
    public func definition(of layer: String) async throws -> LayerSpec? {
        let text = try await rows(
            "SELECT spec::text FROM onemap.layers WHERE name = \(layer)", as: String.self, "reading the definition of '\(layer)'")
        return try text.first.map { try JSONDecoder().decode(LayerSpec.self, from: Data($0.utf8)) }
    }

    /// PostGIS installed (or installable by this user), OneMap's schema created or known. A
    /// hot standby takes no writes: there the schema is only checked, as the primary made it.
    private func prepareSchema() async throws {
        if try await rows("SELECT pg_is_in_recovery()", as: Bool.self, "asking whether the server is a standby") == [true] {
            let made = try await rows("SELECT to_regclass('onemap.meta') IS NOT NULL", as: Bool.self, "reading OneMap's schema")
            let found =
                made == [true]
                ? try await rows("SELECT value FROM onemap.meta WHERE key = 'schema_version'", as: String.self, "reading OneMap's schema")
                : []
            guard let version = found.first else {
                throw StoreError.database("\(location) is a standby without OneMap's schema: load into its primary first")
            }
            try checkSchema(version)
            return
        }
        let installed = try await rows(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'", as: String.self, "looking for PostGIS")
        if installed.isEmpty {
            let available = try await rows(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'", as: String.self,
                "looking for PostGIS")
            guard !available.isEmpty else {
                throw StoreError.database(
                    "\(location) has no PostGIS: install it on the server (Debian: postgresql-15-postgis-3), "
                        + "then CREATE EXTENSION postgis in database '\(location.database)'")
            }
            do {
                _ = try await connection.query("CREATE EXTENSION IF NOT EXISTS postgis", logger: logger).collect()
            } catch {
                throw StoreError.database(
                    "\(location) has no PostGIS, and this user cannot add it (\(Self.reason(error))): "
                        + "as a superuser, CREATE EXTENSION postgis in database '\(location.database)'")
            }
        }
        // In one transaction, so a schema is made whole or not at all; serialised, so two
        // first loads into one empty database do not both make it.
        try await transaction("OneMap's schema") {
            try await execute("SELECT pg_advisory_xact_lock(7142001)", "locking OneMap's schema")
            try await makeSchema()
        }
    }

    private func makeSchema() async throws {
        // One statement per query: the extended protocol postgres-nio speaks takes no more.
        try await execute("CREATE SCHEMA IF NOT EXISTS onemap", "creating OneMap's schema")
        try await execute("CREATE TABLE IF NOT EXISTS onemap.meta(key text PRIMARY KEY, value text NOT NULL)", "creating OneMap's schema")
        // Every replica's check records (全留痕), as each replica's records file keeps them; never
        // changed once written (the server has no UPDATE or DELETE for them).
        try await execute(
            """
            CREATE TABLE IF NOT EXISTS onemap.checks(
                seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, created_at text NOT NULL, project_code text,
                project_name text, key_name text, verdict text NOT NULL, input_format text NOT NULL, input bytea NOT NULL,
                site text NOT NULL, layer_versions text NOT NULL, result bytea NOT NULL)
            """, "creating OneMap's schema")
        // API keys, as SpatiaLite keeps them: a SHA-256 of the secret, never the secret; revoked,
        // never deleted, so records keep their names.
        try await execute(
            """
            CREATE TABLE IF NOT EXISTS onemap.keys(
                id bigint PRIMARY KEY, name text NOT NULL UNIQUE, role text NOT NULL, prefix text NOT NULL,
                hash bytea NOT NULL UNIQUE, created_at text NOT NULL, revoked_at text, scope text)
            """, "creating OneMap's schema")
        let found = try await rows("SELECT value FROM onemap.meta WHERE key = 'schema_version'", as: String.self, "reading OneMap's schema")
        if let text = found.first {
            try checkSchema(text)
            let version = Int(text) ?? Self.schemaVersion
            // Each upgrade is written in this transaction with the new version, so a OneMap too
            // old to know what it adds refuses the database rather than ignore it.
            if version < 2 {
                // Version 2: keys may be limited to a scope, and check records are chained.
                try await execute("ALTER TABLE onemap.keys ADD COLUMN IF NOT EXISTS scope text", "adding the keys' scope")
                for statement in PostGISRecordChain.schema {
                    try await execute(PostgresQuery(unsafeSQL: statement), "chaining the check records")
                }
            }
            if version < 3 {
                // Version 3: every replica's access records, on a chain of their own.
                for statement in PostGISAccess.schema {
                    try await execute(PostgresQuery(unsafeSQL: statement), "making the access records' tables")
                }
            }
            if version < Self.schemaVersion {
                try await execute(
                    "UPDATE onemap.meta SET value = \(String(Self.schemaVersion)) WHERE key = 'schema_version'", "upgrading OneMap's schema"
                )
            }
            return
        }
        try await execute(
            "CREATE TABLE onemap.layers(name text PRIMARY KEY, spec jsonb NOT NULL, current_version integer NOT NULL)",
            "creating OneMap's schema")
        try await execute(
            """
            CREATE TABLE onemap.layer_versions(
                layer text NOT NULL, version integer NOT NULL, label text NOT NULL, table_name text NOT NULL,
                geometry_type text NOT NULL, feature_count bigint NOT NULL,
                min_x double precision, min_y double precision, max_x double precision, max_y double precision,
                fields jsonb NOT NULL, source text NOT NULL, source_crs text NOT NULL, loaded_at timestamptz NOT NULL,
                repaired integer NOT NULL, spec jsonb NOT NULL, definition_change text,
                PRIMARY KEY(layer, version), UNIQUE(layer, label))
            """, "creating OneMap's schema")
        for statement in PostGISRecordChain.schema {
            try await execute(PostgresQuery(unsafeSQL: statement), "chaining the check records")
        }
        for statement in PostGISAccess.schema {
            try await execute(PostgresQuery(unsafeSQL: statement), "making the access records' tables")
        }
        try await execute(
            "INSERT INTO onemap.meta(key, value) VALUES ('schema_version', \(String(Self.schemaVersion)))", "creating OneMap's schema")
    }

    /// Refuses a schema written by a newer OneMap rather than misread it.
    private func checkSchema(_ text: String) throws {
        guard let version = Int(text), version <= Self.schemaVersion else {
            throw StoreError.database(
                "\(location) holds OneMap schema version \(text), newer than this OneMap's \(Self.schemaVersion): "
                    + "run a OneMap at least as new as the one that wrote it")
        }
    }

    /// The primary's write position now: a standby that has replayed up to it holds
    /// everything committed before this call.
    public func writePosition() async throws -> String {
        try await rows("SELECT pg_current_wal_lsn()::text", as: String.self, "reading the write position")[0]
    }

    /// Waits until this server holds what the primary had committed at `position`
    /// (`writePosition`): at once on a primary, else once the standby has replayed to it,
    /// asking every 20 ms for up to `seconds`.
    public func waitForReplay(to position: String, seconds: Double) async throws {
        let started = Date()
        while true {
            let caughtUp = try await rows(
                "SELECT COALESCE(pg_last_wal_replay_lsn() >= \(position)::pg_lsn, true) OR NOT pg_is_in_recovery()", as: Bool.self,
                "reading the standby's replay position")
            if caughtUp == [true] { return }
            guard Date().timeIntervalSince(started) < seconds else {
                throw StoreError.database(
                    "\(location) has not replayed the primary's changes up to \(position) in \(Int(seconds)) s: is it streaming?")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// What went wrong, from the driver's error: the server's own message (with its detail,
    /// hint and SQLSTATE) where there is one. postgres-nio's own description hides them.
    static func reason(_ error: Error) -> String {
        if let e = error as? StoreError { return e.description }
        guard let e = error as? PSQLError else { return "\(error)" }
        if let info = e.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += " (\(detail))" }
            if let hint = info[.hint] { text += "; \(hint)" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return text
        }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }
}
