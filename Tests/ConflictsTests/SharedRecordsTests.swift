import Foundation
import LayerStore
import Synchronization
import Testing

@testable import Conflicts

/// Records shared through an upstream (a replica's database): stored there before they are
/// kept here, refused whole when it cannot take them, and the other replicas' records copied
/// in with their geometry drawn here.
struct SharedRecordsTests {
    /// An upstream in memory: what it was given, and whether it takes more.
    final class Upstream: RecordUpstream, Sendable {
        let stored = Mutex<[CheckRecords.Record]>([])
        let refusing = Mutex(false)
        func store(_ record: CheckRecords.Record) throws {
            if refusing.withLock({ $0 }) { throw RecordUpstreamUnavailable("the database is away") }
            stored.withLock { $0.append(record) }
        }
        func attach(_ records: CheckRecords) {}
    }

    @Test func aRecordIsStoredUpstreamFirstAndNowhereWhenItIsRefused() throws {
        let f = try DeferredGeometryTests().fixtures()
        let upstream = Upstream()
        let records = CheckRecords(store: f.store, upstream: upstream)
        let checker = ConflictChecker(store: f.store)
        let site = try DeferredGeometryTests().sites()[0]
        let saved = try records.save(withoutGeometry: try checker.check(site, keepPieces: false), request: DeferredGeometryTests.request)
        #expect(upstream.stored.withLock { $0.map(\.summary.id) } == [saved.summary.id])
        #expect(upstream.stored.withLock { $0.first?.result } == saved.result)

        upstream.refusing.withLock { $0 = true }
        #expect(throws: RecordUpstreamUnavailable.self) {
            _ = try records.save(withoutGeometry: try checker.check(site, keepPieces: false), request: DeferredGeometryTests.request)
        }
        #expect(throws: RecordUpstreamUnavailable.self) {
            _ = try records.save(try checker.check(site, keepPieces: true), request: DeferredGeometryTests.request)
        }
        // Nothing of the refused checks is kept here either.
        #expect(try records.list(projectCode: nil, limit: 10, offset: 0).total == 1)
    }

    @Test func anotherReplicasRecordsAreCopiedInOnceAndDrawnHere() throws {
        // Replica A makes the records; replica B, on the same layers, copies them in.
        let a = try DeferredGeometryTests().fixtures(label: "2025")
        let b = try DeferredGeometryTests().fixtures(label: "2025")
        let upstream = Upstream()
        let made = CheckRecords(store: a.store, upstream: upstream)
        let checker = ConflictChecker(store: a.store)
        var expected: [String: Data] = [:]
        for site in try DeferredGeometryTests().sites() {
            let saved = try made.save(withoutGeometry: try checker.check(site, keepPieces: false), request: DeferredGeometryTests.request)
            expected[saved.summary.id] = try CheckGeoJSON.data(try checker.check(site, keepPieces: true))
        }
        let copies = CheckRecords(store: b.store)
        try copies.copyIn(upstream.stored.withLock { $0 })
        try copies.copyIn(upstream.stored.withLock { $0 })  // again: nothing doubled
        #expect(try copies.list(projectCode: nil, limit: 50, offset: 0).total == expected.count)
        for record in upstream.stored.withLock({ $0 }) {
            let copied = try #require(try copies.get(record.summary.id))
            #expect(copied.result == record.result && copied.input == record.input && copied.summary.keyName == "test")
            #expect(copied.geojson == expected[record.summary.id], "drawn here as the replica that made it would")
        }
    }
}
