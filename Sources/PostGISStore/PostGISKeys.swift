import Foundation
import LayerStore
import PostgresNIO

/// API keys in the database a city's replicas share: a key made or revoked through any replica
/// (or `onemap keys --db postgresql://…`) holds at every one. Each change is announced on
/// `onemap_keys`, and each replica copies the keys into its own store, where requests are
/// checked against them without a query to the database (`PostGISFollower`).
public struct PostGISKeys: KeyAdministration {
    public let location: PostGISLocation
    /// The replica's copy, made again after each change here, so that a key revoked through this
    /// replica stops working on its very next request; nil for the command line.
    public let local: KeyRing?

    public init(location: PostGISLocation, local: KeyRing? = nil) {
        self.location = location
        self.local = local
    }

    public func makeKey(role: Role, name: String?, scope: DataScope?) async throws -> (key: APIKey, secret: String) {
        let (secret, prefix) = KeyRing.newSecret()
        if let name { try KeyRing.validate(name: name) }
        let key = try await change("making a key") { db in
            if let name, try await !db.rows("SELECT id FROM onemap.keys WHERE name = \(name)", as: Int64.self, "finding key names").isEmpty
            {
                throw KeyRing.nameTaken(name)
            }
            let id = try await db.rows("SELECT COALESCE(MAX(id), 0) + 1 FROM onemap.keys", as: Int64.self, "numbering the key")[0]
            let key = APIKey(
                id: id, name: name ?? "\(role.rawValue)-\(id)", role: role, prefix: prefix, createdAt: KeyRing.timestamp(), revokedAt: nil,
                scope: scope)
            try await db.execute(
                """
                INSERT INTO onemap.keys(id, name, role, prefix, hash, created_at, scope)
                VALUES (\(key.id), \(key.name), \(role.rawValue), \(prefix), \(ByteBuffer(data: KeyRing.hash(secret))), \(key.createdAt),
                    \(scope?.description))
                """, "storing key '\(key.name)'")
            return key
        }
        return (key, secret)
    }

    public func allKeys() async throws -> [APIKey] {
        try await reaching { try await PostGISDatabase.with(location) { db in try await Self.stored(db).map(\.key) } }
    }

    public func revokeKey(_ idOrName: String) async throws -> APIKey {
        try await change("revoking key '\(idOrName)'") { db in
            let found = try await Self.stored(db).first { String($0.key.id) == idOrName || $0.key.name == idOrName }
            guard let k = found?.key else { throw StoreError.unknownKey(idOrName) }
            if let when = k.revokedAt { throw StoreError.conflict("key '\(k.name)' was already revoked at \(when)") }
            let now = KeyRing.timestamp()
            try await db.execute("UPDATE onemap.keys SET revoked_at = \(now) WHERE id = \(k.id)", "revoking key '\(k.name)'")
            return k.revoked(at: now)
        }
    }

    /// Every key, with the hash requests are checked against.
    static func stored(_ db: PostGISDatabase) async throws -> [StoredKey] {
        var out: [StoredKey] = []
        do {
            let rows = try await db.connection.query(
                "SELECT id, name, role, prefix, hash, created_at, revoked_at, scope FROM onemap.keys ORDER BY id", logger: db.logger)
            for try await (id, name, role, prefix, hash, createdAt, revokedAt, scope) in rows.decode(
                (Int64, String, String, String, ByteBuffer, String, String?, String?).self)
            {
                guard let role = Role(rawValue: role) else { throw StoreError.database("key \(id) has unknown role '\(role)'") }
                let limited = try scope.map(DataScope.init(text:))
                out.append(
                    StoredKey(
                        key: APIKey(
                            id: id, name: name, role: role, prefix: prefix, createdAt: createdAt, revokedAt: revokedAt, scope: limited),
                        hash: Data(buffer: hash)))
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.database("\(db.location): reading the keys failed: \(PostGISDatabase.reason(error))")
        }
        return out
    }

    /// Copies the database's keys into `ring`'s store.
    public static func copy(_ db: PostGISDatabase, into ring: KeyRing) async throws {
        let keys = try await stored(db)
        try await Blocking.run { try ring.replace(with: keys) }
    }

    /// One change, serialised with any other, announced at its commit; then this replica's copy.
    private func change<T: Sendable>(_ doing: String, _ body: (PostGISDatabase) async throws -> T) async throws -> T {
        try await reaching {
            try await PostGISDatabase.with(location) { db in
                let value = try await db.transaction(doing) {
                    try await db.execute("SELECT pg_advisory_xact_lock(7142003)", "locking the keys")
                    let value = try await body(db)
                    try await db.execute("SELECT pg_notify(\(PostGISDatabase.keysChannel), '')", "announcing the change")
                    return value
                }
                if let local { try await Self.copy(db, into: local) }
                return value
            }
        }
    }

    /// `body`, with the database's own failures (it cannot be reached, a statement failed)
    /// said as `KeysUnavailable`; what the request got wrong (a name taken, an unknown key)
    /// passes as it is.
    private func reaching<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch StoreError.database(let message) {
            throw KeysUnavailable("the keys cannot be changed or read now: \(message)")
        }
    }
}
