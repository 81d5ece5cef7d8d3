import Crypto
import Foundation
import GRDB

/// One API key as stored: everything but the secret, of which only a SHA-256 is kept.
public struct APIKey: Sendable, Hashable, Codable {
    public let id: Int64
    public let name: String
    public let role: Role
    /// The first characters of the secret, so a user can tell their keys apart.
    public let prefix: String
    public let createdAt: String
    public let revokedAt: String?
    /// The administrative areas the key's holder is limited to (`keys create --scope`); nil
    /// when not limited.
    public let scope: DataScope?

    public init(id: Int64, name: String, role: Role, prefix: String, createdAt: String, revokedAt: String?, scope: DataScope? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.scope = scope
    }

    /// The key revoked at `when`.
    public func revoked(at when: String) -> APIKey {
        APIKey(id: id, name: name, role: role, prefix: prefix, createdAt: createdAt, revokedAt: when, scope: scope)
    }

    /// The caller holding this key.
    public var caller: Caller { Caller(keyName: name, role: role, scope: scope) }
}

/// The API keys in the store. A key is `om_` and 43 base64url characters (256 random bits):
/// with that much entropy a plain SHA-256 is as safe as a slow hash and costs microseconds
/// per request, so lookups go straight to the hash's unique index.
public struct KeyRing: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    public enum Lookup: Sendable, Equatable {
        case valid(APIKey)
        case revoked(APIKey)
        case unknown
    }

    /// How every key's secret begins, so a bearer token that does not is not looked up as one.
    public static let secretPrefix = "om_"

    /// A new key's secret, and the first characters of it shown to tell keys apart.
    package static func newSecret() -> (secret: String, prefix: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()  // getrandom(2): cryptographically secure
        for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &rng) }
        let secret =
            secretPrefix
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (secret, String(secret.prefix(10)))
    }

    /// Why a key name is refused when another key has it.
    package static func nameTaken(_ name: String) -> StoreError {
        StoreError.conflict("a key named '\(name)' already exists; names stay taken after revocation so records keep meaning")
    }

    /// Makes a key and returns it with its secret, which is never stored and cannot be shown again.
    public func create(role: Role, name: String?, scope: DataScope? = nil) throws -> (key: APIKey, secret: String) {
        let (secret, prefix) = Self.newSecret()
        let now = Self.timestamp()
        defer { store.keyLookups.changed() }
        let key = try store.pool.write { db -> APIKey in
            let chosen: String
            if let name {
                try Self.validate(name: name)
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM onemap_keys WHERE name = ?", arguments: [name]) == true {
                    throw Self.nameTaken(name)
                }
                chosen = name
            } else {
                let next = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM onemap_keys")) ?? 1
                chosen = "\(role.rawValue)-\(next)"
            }
            try db.execute(
                sql: "INSERT INTO onemap_keys(name, role, prefix, hash, created_at, scope) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [chosen, role.rawValue, prefix, Self.hash(secret), now, scope?.description])
            return APIKey(id: db.lastInsertedRowID, name: chosen, role: role, prefix: prefix, createdAt: now, revokedAt: nil, scope: scope)
        }
        return (key, secret)
    }

    public func list() throws -> [APIKey] {
        try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM onemap_keys ORDER BY id").map(Self.key) }
    }

    /// Revokes a key by id or by name. Revoking twice is an error that says when it was revoked.
    public func revoke(_ idOrName: String) throws -> APIKey {
        defer { store.keyLookups.changed() }
        return try store.pool.write { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM onemap_keys WHERE CAST(id AS TEXT) = ? OR name = ?",
                arguments: [idOrName, idOrName])
            guard let row else { throw StoreError.unknownKey(idOrName) }
            let key = try Self.key(row)
            if let when = key.revokedAt { throw StoreError.conflict("key '\(key.name)' was already revoked at \(when)") }
            let now = Self.timestamp()
            try db.execute(sql: "UPDATE onemap_keys SET revoked_at = ? WHERE id = ?", arguments: [now, key.id])
            return key.revoked(at: now)
        }
    }

    /// The key a request presents, if an earlier request's lookup still holds; nil when the
    /// database must be read (`lookup`). Reads nothing, so the caller need not leave its thread.
    public func remembered(secret: String) -> Lookup? {
        guard secret.hasPrefix(Self.secretPrefix), secret.utf8.count < 200, let version = store.recentDataVersion() else { return nil }
        return store.keyLookups.lookup(Self.digest(secret), dataVersion: version)
    }

    /// Finds the key a request presents: remembered from an earlier request while no key was
    /// written (`KeyLookups`), else one indexed read. A key revoked through this server stops
    /// working on the next request, one revoked from the CLI within 50 ms, without a restart.
    public func lookup(secret: String) throws -> Lookup {
        guard secret.hasPrefix(Self.secretPrefix), secret.utf8.count < 200 else { return .unknown }
        let digest = Self.digest(secret)
        let lookups = store.keyLookups
        let generation = lookups.generation
        let dataVersion = try store.currentDataVersion()
        if let known = lookups.lookup(digest, dataVersion: dataVersion) { return known }
        let found = try store.pool.read { db -> Lookup in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM onemap_keys WHERE hash = ?", arguments: [Data(digest)]) else {
                return .unknown
            }
            let key = try Self.key(row)
            return key.revokedAt == nil ? .valid(key) : .revoked(key)
        }
        lookups.remember(digest, found, dataVersion: dataVersion, generation: generation)
        return found
    }

    /// Makes the store's keys these, as the database the replicas share holds them: a
    /// replica's copy, which its requests are checked against.
    public func replace(with keys: [StoredKey]) throws {
        defer { store.keyLookups.changed() }
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM onemap_keys")
            for k in keys {
                try db.execute(
                    sql: """
                        INSERT INTO onemap_keys(id, name, role, prefix, hash, created_at, revoked_at, scope)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        k.key.id, k.key.name, k.key.role.rawValue, k.key.prefix, k.hash, k.key.createdAt, k.key.revokedAt,
                        k.key.scope?.description
                    ])
            }
        }
    }

    package static func hash(_ secret: String) -> Data { Data(digest(secret)) }

    /// The secret's SHA-256, hashed from its UTF-8 bytes in place: every request with a key
    /// asks it, and through `Data` it cost a few microseconds of copies and generic lookups.
    static func digest(_ secret: String) -> SHA256.Digest {
        var text = secret
        return text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }

    package static func validate(name: String) throws {
        guard (1...64).contains(name.count),
            name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace || $0 == " " }),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw StoreError.invalidRequest("a key name is 1 to 64 printable characters; got '\(name)'")
        }
    }

    static func key(_ row: Row) throws -> APIKey {
        let roleName: String = row["role"]
        guard let role = Role(rawValue: roleName) else {
            throw StoreError.database("key \(row["id"] as Int64? ?? 0) has unknown role '\(roleName)'")
        }
        let scope: String? = row["scope"]
        return APIKey(
            id: row["id"], name: row["name"], role: role, prefix: row["prefix"],
            createdAt: row["created_at"], revokedAt: row["revoked_at"], scope: try scope.map(DataScope.init(text:)))
    }

    package static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

/// The database the keys live in could not be reached: nothing was made or revoked, and the
/// caller may try again (a replica answers 503 with Retry-After).
public struct KeysUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A key with the hash of its secret: what a replica copies to check requests against.
public struct StoredKey: Sendable {
    public let key: APIKey
    public let hash: Data

    public init(key: APIKey, hash: Data) {
        self.key = key
        self.hash = hash
    }
}

/// Where keys are made, listed and revoked: the store's own (`KeyRing`), or the database a
/// city's replicas share (`PostGISKeys`), so that a key made at one replica works at all.
/// Requests are always checked against the store (`KeyRing.lookup`), which a replica keeps
/// a copy of the shared keys in.
public protocol KeyAdministration: Sendable {
    func makeKey(role: Role, name: String?, scope: DataScope?) async throws -> (key: APIKey, secret: String)
    func allKeys() async throws -> [APIKey]
    func revokeKey(_ idOrName: String) async throws -> APIKey
}

extension KeyRing: KeyAdministration {
    public func makeKey(role: Role, name: String?, scope: DataScope?) async throws -> (key: APIKey, secret: String) {
        try await Blocking.run { try create(role: role, name: name, scope: scope) }
    }

    public func allKeys() async throws -> [APIKey] { try await Blocking.run { try list() } }

    public func revokeKey(_ idOrName: String) async throws -> APIKey { try await Blocking.run { try revoke(idOrName) } }
}
