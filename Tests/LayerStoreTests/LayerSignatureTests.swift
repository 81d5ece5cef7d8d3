import Foundation
import GRDB
import LayerStore
import Testing

/// `currentLayerSignature`, which every tile request asks: a load through the same store is
/// seen by the very next call; one through another connection (another process, as
/// `onemap load` beside a server) once the re-check interval has passed.
struct LayerSignatureTests {
    static func load(_ store: Store, _ f: Fixtures, _ name: String) throws {
        let source = try f.geoJSON(name + "-" + UUID().uuidString + ".geojson", count: 3)
        _ = try LayerImporter(store: store).load(LayerSpec(name: name, title: name, kind: .farmland, source: source, idField: "BSM"))
    }

    @Test func aLoadThroughThisStoreIsSeenAtOnce() throws {
        let f = try Fixtures()
        // An hour between re-checks: only the counted commit can reveal the second load.
        let store = try Store(path: f.path("test.sqlite"), recheckNanoseconds: 3_600_000_000_000)
        try Self.load(store, f, "farmland")
        let first = try store.currentLayerSignature()
        #expect(first == "farmland:1")
        try Self.load(store, f, "farmland")
        #expect(try store.currentLayerSignature() == "farmland:2")
        // A commit that changes no layer leaves the signature as it was.
        try store.pool.write { db in try db.execute(sql: "CREATE TABLE unrelated (x)") }
        #expect(try store.currentLayerSignature() == "farmland:2")
    }

    @Test func aLoadByAnotherConnectionIsSeenWithinTheRecheckInterval() async throws {
        let f = try Fixtures()
        let server = try f.store()
        try Self.load(server, f, "farmland")
        #expect(try server.currentLayerSignature() == "farmland:1")
        let other = try Store(path: server.path)
        try Self.load(other, f, "farmland")
        // Polled, not timed: seen once the interval has passed (within a few intervals on a
        // busy machine); a store that never asked SQLite again would fail here.
        var seen = try server.currentLayerSignature()
        for _ in 0..<100 where seen != "farmland:2" {
            try await Task.sleep(nanoseconds: server.recheckNanoseconds)
            seen = try server.currentLayerSignature()
        }
        #expect(seen == "farmland:2")
    }
}
