import Conflicts
import Foundation
import LayerStore
import PostGISStore
import PostgresNIO
import Testing

/// Access records of several replicas in the database they share: each replica's reads reach
/// it a moment after the answer, wait in the replica's records file while it is away, are
/// listed together, and sit on one chain that names tampering done straight in the database.
struct PostGISAccessTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "onemap-pg-access-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    static func read(_ who: String, _ n: Int, layer: String = "secret") -> AccessRecords.Note {
        AccessRecords.Note(
            who: who, subject: n % 3 == 0 ? nil : "sub-\(who)", route: "GET /collections/\(layer)/items", layer: layer,
            what: "items bbox=120,28,120.1,28.1 n=\(n)", returned: n % 4 == 0 ? nil : n, requestID: "req-\(who)-\(n)")
    }

    /// A records file's own access records, oldest first.
    static func local(_ store: Store) throws -> [AccessRecords.Record] {
        try AccessRecords(store: store, flushSeconds: 3600).list(limit: 1000).items.reversed()
    }

    @Test func replicasShareTheirAccessRecordsOnOneChain() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let location = try PostGISLocation(url: url)
        try await PostGISDatabase.with(location) { _ in }
        let shared = [PostGISAccess(location: location), PostGISAccess(location: location)]
        defer { for s in shared { s.close() } }
        // A long flush time: the test flushes itself, so nothing races it.
        let replicas = try (0..<2).map { k in
            AccessRecords(store: try Store(path: "\(dir)/replica\(k).sqlite"), flushSeconds: 3600, upstream: shared[k])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, replica) in replicas.enumerated() {
                group.addTask {
                    for n in 1...15 {
                        replica.note(Self.read("replica\(k)", n, layer: n % 2 == 0 ? "secret" : "wells"))
                        if n % 5 == 0 { try replica.flush() }
                    }
                }
            }
            try await group.waitForAll()
        }
        // Either replica lists both's reads, newest first, filtered as one file would be.
        let all = try replicas[0].list(limit: 100)
        #expect(all.total == 30 && all.items.count == 30)
        #expect(Set(all.items.map(\.who)) == ["replica0", "replica1"])
        #expect(all.items.map(\.seq) == all.items.map(\.seq).sorted(by: >))
        let mine = try replicas[1].list(who: "replica0", layer: "secret", limit: 3, offset: 2)
        #expect(mine.total == 7 && mine.items.count == 3 && mine.items.allSatisfy { $0.who == "replica0" && $0.layer == "secret" })
        #expect(try replicas[1].list(who: "replica0", limit: 5, offset: 100).total == 15)
        #expect(try replicas[0].list(since: "2999-01-01").total == 0)
        // The shared records are the replicas' own, field for field (nil subject, nil count kept).
        let local = try Self.local(replicas[0].store)
        let sharedByID = Dictionary(uniqueKeysWithValues: all.items.map { ($0.id, $0) })
        for r in local {
            var s = try #require(sharedByID[r.id])
            s.seq = r.seq
            #expect(s == r)
        }

        let clean = try await PostGISDatabase.with(location) { try await $0.verifyAccessChain(keptHead: nil) }
        #expect(clean.findings.isEmpty && clean.checked == 30, "\(clean.findings)")
        let head = try #require(try await PostGISDatabase.with(location) { try await $0.accessChainHead() })
        #expect(head == clean.head && head.seq == 30)

        // Tampering straight in the database: each kind named.
        let ids = all.items.reversed().map(\.id)
        _ = try await TestDatabase.values(
            url, "UPDATE onemap.access SET returned = 0 WHERE id = '\(ids[3])' RETURNING 1", as: Int.self)
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.access WHERE id = '\(ids[7])' RETURNING 1", as: Int.self)
        _ = try await TestDatabase.values(
            url,
            """
            INSERT INTO onemap.access(id, at, who, route, layer, what) VALUES ('forged', '2026-12-07T11:00:30.000Z', 'x', 'GET /', 'secret', 'x')
            RETURNING 1
            """, as: Int.self)
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.access_chain WHERE record_id = 'forged' RETURNING 1", as: Int.self)
        let tampered = try await PostGISDatabase.with(location) { try await $0.verifyAccessChain(keptHead: head) }
        let named = Dictionary(tampered.findings.map { ($0.recordID ?? "", $0.kind) }, uniquingKeysWith: { a, _ in a })
        #expect(named[ids[3]] == .changed && named[ids[7]] == .deleted && named["forged"] == .inserted, "\(tampered.findings)")
        #expect(!tampered.findings.contains { $0.kind == .head })
    }

    @Test func readsWaitInTheRecordsFileWhileTheDatabaseIsAway() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let location = try PostGISLocation(url: url)
        try await PostGISDatabase.with(location) { _ in }
        let store = try Store(path: "\(dir)/replica.sqlite")
        // Nothing listens on port 1: the database is away.
        let away = PostGISAccess(location: try PostGISLocation(url: "postgresql://postgres@127.0.0.1:1/onemap?sslmode=disable"))
        defer { away.close() }
        let cut = AccessRecords(store: store, flushSeconds: 3600, upstream: away)
        for n in 1...4 { cut.note(Self.read("planner", n)) }
        do {
            try cut.flush()
            Issue.record("a flush to a database that is away succeeded")
        } catch {
            #expect("\(error)".contains("could not be stored") && "\(error)".contains("wait in this server's records file"), "\(error)")
        }
        // Kept, chained, in the records file.
        #expect(try Self.local(store).count == 4)

        // The replica starts again with its database back: what waited goes first.
        let shared = PostGISAccess(location: location)
        defer { shared.close() }
        let back = AccessRecords(store: store, flushSeconds: 3600, upstream: shared)
        back.note(Self.read("planner", 5))
        try back.flush()
        let listed = try back.list()
        #expect(listed.total == 5 && listed.items.map(\.requestID) == (1...5).reversed().map { "req-planner-\($0)" })
        // Offered again (a lost answer), nothing is stored twice.
        try shared.store(try Self.local(store))
        #expect(try back.list().total == 5)
        let verified = try await PostGISDatabase.with(location) { try await $0.verifyAccessChain(keptHead: nil) }
        #expect(verified.findings.isEmpty && verified.checked == 5)
    }

    @Test func aSchemaTwoDatabaseGainsTheAccessTables() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let location = try PostGISLocation(url: url)
        try await PostGISDatabase.with(location) { _ in }
        // Made as OneMap's schema 2 left it: no access tables.
        try await TestDatabase.withConnection(url) { c in
            for sql in [
                "DROP TABLE onemap.access_chain", "DROP TABLE onemap.access CASCADE",
                "UPDATE onemap.meta SET value = '2' WHERE key = 'schema_version'"
            ] {
                _ = try await c.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
            }
        }
        try await PostGISDatabase.with(location) { _ in }
        #expect(try await TestDatabase.values(url, "SELECT value FROM onemap.meta WHERE key = 'schema_version'", as: String.self) == ["3"])
        let shared = PostGISAccess(location: location)
        defer { shared.close() }
        let records = AccessRecords(store: try Store(path: "\(dir)/upgraded.sqlite"), flushSeconds: 3600, upstream: shared)
        records.note(Self.read("viewer", 1))
        try records.flush()
        #expect(try records.list().total == 1)
    }
}
