import Foundation
import LayerStore
import Testing

@testable import PostGISStore

/// What the other commands do on PostgreSQL: list and drop versions, copy an older version
/// beside the current one for a comparison, and keep the keys every replica checks requests
/// against.
struct PostGISVersionsAndKeysTests {
    let imports = try! PostGISImportTests()

    func threeVersions(_ url: String) async throws {
        for (label, count) in [("2023", 4), ("2024", 5), ("2025", 6)] {
            let source = try imports.parcels("v\(label).geojson", count: count)
            _ = try await imports.load(url, imports.spec(source), label: label)
        }
    }

    @Test func versionsAreListedAndTheOldestDropped() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        try await threeVersions(url)
        let location = try PostGISLocation(url: url)
        let listed = try await PostGISDatabase.with(location) { db in try await db.versions(of: "farmland") }
        #expect(listed.map(\.label) == ["2023", "2024", "2025"] && listed.map(\.count) == [4, 5, 6])
        #expect(listed.map(\.current) == [false, false, true] && listed[2].summary.label == "2025" && listed[2].summary.count == 6)
        await #expect(throws: StoreError.self) {
            try await PostGISDatabase.with(location) { db in try await db.versions(of: "nonesuch") }
        }
        let dropped = try await PostGISDatabase.with(location) { db in try await db.prune("farmland", keep: 2) }
        #expect(dropped.map(\.label) == ["2023"])
        #expect(try await TestDatabase.values(url, "SELECT to_regclass('onemap.lyr_farmland_1') IS NULL", as: Bool.self) == [true])
        #expect(try await TestDatabase.values(url, "SELECT version FROM onemap.layer_versions ORDER BY version", as: Int.self) == [2, 3])
        // The current version stays whatever keep says.
        let all = try await PostGISDatabase.with(location) { db in try await db.prune("farmland", keep: 1) }
        #expect(all.map(\.label) == ["2024"])
        #expect(try await TestDatabase.values(url, "SELECT count(*) FROM onemap_layers.farmland", as: Int.self) == [6])
    }

    @Test func anOlderVersionIsCopiedBesideTheCurrentOne() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        try await threeVersions(url)
        let store = try Store(path: imports.dir + "/copy.sqlite")
        let copied = try await PostGISDatabase.with(try PostGISLocation(url: url)) { db in
            let mirror = PostGISMirror(database: db, store: store)
            let current = try await mirror.sync()
            let older = try await mirror.copy(layer: "farmland", versions: [1, 3])
            await #expect(throws: StoreError.self) { try await mirror.copy(layer: "farmland", versions: [9]) }
            return (current, older)
        }
        #expect(copied.0.map(\.version) == [3] && copied.1.map(\.version) == [1])
        // The older version is there to compare, and the current one stays current.
        #expect(try store.layer(named: "farmland").version.number == 3)
        #expect(try store.versions(of: "farmland").map(\.label) == ["2023", "2025"])
        let diff = try store.diff("farmland", from: "2023", to: "2025")
        #expect(diff.added == ["P5", "P6"] && diff.removed.isEmpty)
    }

    @Test func keysMadeInTheDatabaseAreCheckedAtEveryCopy() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let location = try PostGISLocation(url: url)
        let replicaA = KeyRing(store: try Store(path: imports.dir + "/a.sqlite"))
        let replicaB = KeyRing(store: try Store(path: imports.dir + "/b.sqlite"))
        let keys = PostGISKeys(location: location, local: replicaA)
        let (approver, secret) = try await keys.makeKey(role: .approver, name: "审批系统", scope: nil)
        let (viewer, _) = try await keys.makeKey(role: .viewer, name: nil, scope: nil)
        #expect(approver.id == 1 && viewer.name == "viewer-2")
        await #expect(throws: StoreError.self) { try await keys.makeKey(role: .admin, name: "审批系统", scope: nil) }
        await #expect(throws: StoreError.self) { try await keys.makeKey(role: .admin, name: "", scope: nil) }
        #expect(try await keys.allKeys().map(\.name) == ["审批系统", "viewer-2"])
        // Only a hash is stored.
        #expect(
            try await TestDatabase.values(
                url, "SELECT count(*) FROM onemap.keys k WHERE strpos(k::text, \(quote(secret))) > 0", as: Int.self)
                == [0])
        #expect(
            try await TestDatabase.values(
                url, "SELECT count(*) FROM onemap.keys WHERE hash = sha256(\(quote(secret))::bytea)", as: Int.self)
                == [1])

        // The replica that made it checks it at once; another once it has copied the keys.
        #expect(try replicaA.lookup(secret: secret) == .valid(approver))
        #expect(try replicaB.lookup(secret: secret) == .unknown)
        try await PostGISDatabase.with(location) { db in try await PostGISKeys.copy(db, into: replicaB) }
        #expect(try replicaB.lookup(secret: secret) == .valid(approver))

        let revoked = try await keys.revokeKey("1")
        #expect(revoked.revokedAt != nil)
        #expect(try replicaA.lookup(secret: secret) == .revoked(revoked))
        await #expect(throws: StoreError.self) { try await keys.revokeKey("审批系统") }
        await #expect(throws: StoreError.self) { try await keys.revokeKey("nonesuch") }
        try await PostGISDatabase.with(location) { db in try await PostGISKeys.copy(db, into: replicaB) }
        #expect(try replicaB.lookup(secret: secret) == .revoked(revoked))

        // A scoped key keeps its scope through the database and every copy.
        let scope = try DataScope(codes: ["331123", "331121101"])
        let (scoped, scopedSecret) = try await keys.makeKey(role: .planner, name: "遂昌审批", scope: scope)
        #expect(scoped.scope == scope)
        #expect(try await keys.allKeys().last?.scope == scope)
        try await PostGISDatabase.with(location) { db in try await PostGISKeys.copy(db, into: replicaB) }
        guard case .valid(let copied) = try replicaB.lookup(secret: scopedSecret) else {
            Issue.record("the scoped key was not copied")
            return
        }
        #expect(copied.scope == scope && copied.caller.scope == scope)
        #expect(
            try await TestDatabase.values(url, "SELECT value FROM onemap.meta WHERE key = 'schema_version'", as: String.self) == [
                String(PostGISDatabase.schemaVersion)
            ])
    }

    func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}

/// A replica in the second machine room copies from the hot standby there, listening on the
/// primary: the standby must hold what the primary announced before it is read.
struct PostGISStandbyTests {
    let imports = try! PostGISImportTests()

    @Test func aCopyFromTheStandbyWaitsForWhatThePrimaryCommitted() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let standby = try PostGISLocation(url: try TestDatabase.onStandby(url))
        // Before any load the standby has no schema, and says so without trying to make one.
        for _ in 0..<250 {  // the standby replays the new database's creation
            if (try? await TestDatabase.values(try TestDatabase.onStandby(url), "SELECT 1", as: Int.self)) != nil { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        do {
            await (try PostGISDatabase.open(standby)).close()
            Issue.record("a standby without OneMap's schema was opened")
        } catch {
            #expect("\(error)".contains("is a standby without OneMap's schema: load into its primary first"), "\(error)")
        }
        let store = try Store(path: imports.dir + "/standby-copy.sqlite")
        let primaryLocation = try PostGISLocation(url: url)
        func copy() async throws -> [PostGISMirror.Copied] {
            try await PostGISDatabase.with(primaryLocation) { primary in
                try await PostGISMirror.with(primary: primary, standby: standby, store: store) { mirror in
                    #expect(mirror.database.location.port == standby.port)
                    return try await mirror.sync()
                }
            }
        }
        _ = try await imports.load(url, imports.spec(try imports.parcels("s2024.geojson", count: 5)), label: "2024")
        #expect(try await copy().map(\.count) == [5])
        #expect(try store.layer(named: "farmland").version.label == "2024")

        // The standby stops replaying; a version loaded meanwhile is not copied from it until it
        // has replayed the load's commit.
        let standbyURL = try TestDatabase.onStandby(url)
        _ = try await TestDatabase.values(standbyURL, "SELECT pg_wal_replay_pause()::text", as: String.self)
        _ = try await imports.load(url, imports.spec(try imports.parcels("s2025.geojson", count: 9)), label: "2025")
        let copying = Task { try await copy() }
        try await Task.sleep(nanoseconds: 400_000_000)
        #expect(try store.layer(named: "farmland").version.label == "2024", "nothing copied while the standby lags")
        _ = try await TestDatabase.values(standbyURL, "SELECT pg_wal_replay_resume()::text", as: String.self)
        #expect(try await copying.value.map(\.count) == [9])
        #expect(try store.layer(named: "farmland").version.label == "2025")
        // A standby takes no writes: the schema check there wrote nothing, and a load is refused.
        await #expect(throws: StoreError.self) {
            try await PostGISDatabase.with(standby) { db in
                try await PostGISImporter(database: db).load(imports.spec(try imports.parcels("x.geojson", count: 1)))
            }
        }
    }
}
