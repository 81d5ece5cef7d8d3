import Conflicts
import Foundation
import GRDB
import LayerStore
import Testing

/// The check records' hash chain names each kind of tampering done straight in the file, as
/// someone with the file (not the server) would do it: triggers dropped first.
struct RecordChainTests {
    /// A store with records r1…r5, stored as a server stores them.
    func recorded() throws -> (Store, CheckRecords) {
        let dir = NSTemporaryDirectory() + "onemap-chain-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try Store(path: dir + "/onemap.sqlite")
        let records = CheckRecords(store: store, drawingQuietSeconds: 3600)
        var made: [CheckRecords.Record] = []
        for n in 1...5 {
            let summary = CheckRecords.Summary(
                id: "r\(n)", createdAt: "2026-12-07T10:0\(n):00.000Z", projectCode: n == 2 ? nil : "P-\(n)",
                projectName: "项目\(n)", verdict: n % 2 == 0 ? "forbidden" : "clear", keyName: "审批系统")
            let input = Data("{\"n\": \(n)}".utf8)
            let result = Data("{\"verdict\": \(n)}".utf8)
            // A site as the server writes it, so that drawing its geometry in the background succeeds.
            let site = #"{"type":"Polygon","coordinates":[[[120,28],[120.001,28],[120.001,28.001],[120,28.001],[120,28]]]}"#
            made.append(
                CheckRecords.Record(
                    summary: summary, inputFormat: "geojson", input: input, site: site, versions: [:], result: result, geojson: Data()))
        }
        try records.copyIn(made)
        return (store, records)
    }

    /// Tampers with the records file as its owner could, with the triggers dropped.
    func tamper(_ store: Store, _ sql: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = false
        let raw = try DatabaseQueue(path: store.recordsPath, configuration: config)
        try raw.writeWithoutTransaction { db in
            for trigger in [
                "onemap_checks_no_update", "onemap_checks_no_delete", "onemap_record_chain_no_update", "onemap_record_chain_no_delete"
            ] {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)")
            }
            try db.execute(sql: sql)
        }
        try raw.close()
    }

    func verify(_ store: Store, head: RecordChain.Head? = nil) throws -> RecordChain.Verification {
        try store.pool.read { db in
            try RecordChain.verify(db, keptHead: head ?? RecordChain.readHead(records: store.recordsPath))
        }
    }

    @Test func anUntouchedChainHoldsAndItsHeadIsKeptBesideIt() throws {
        let (store, _) = try recorded()
        let v = try verify(store)
        #expect(v.findings.isEmpty && v.checked == 5)
        let head = try #require(v.head)
        #expect(head.seq == 5 && head.recordID == "r5" && head.hash.count == 64)
        #expect(RecordChain.readHead(records: store.recordsPath) == head)
        // The server refuses changes itself, as before.
        #expect(throws: DatabaseError.self) {
            try store.pool.write { try $0.execute(sql: "DELETE FROM onemap_record_chain WHERE seq = 1") }
        }
    }

    @Test func aChangedRecordIsNamed() throws {
        let (store, _) = try recorded()
        try tamper(store, "UPDATE onemap_checks SET verdict = 'clear' WHERE id = 'r2'")
        let v = try verify(store)
        #expect(v.findings.map(\.kind) == [.changed] && v.findings.first?.recordID == "r2", "\(v.findings)")
        // A missing field turned into an empty one is a change too.
        let (other, _) = try recorded()
        try tamper(other, "UPDATE onemap_checks SET project_code = '' WHERE id = 'r2'")
        #expect(try verify(other).findings.first?.recordID == "r2")
    }

    @Test func aDeletedRecordIsNamedWithOrWithoutItsLink() throws {
        let (store, _) = try recorded()
        try tamper(store, "DELETE FROM onemap_checks WHERE id = 'r3'")
        let v = try verify(store)
        #expect(v.findings.map(\.kind) == [.deleted] && v.findings.first?.recordID == "r3", "\(v.findings)")
        // Deleting the link as well breaks the next one.
        let (both, _) = try recorded()
        try tamper(both, "DELETE FROM onemap_checks WHERE id = 'r3'; DELETE FROM onemap_record_chain WHERE record_id = 'r3'")
        let b = try verify(both)
        #expect(b.findings.first?.kind == .changed && b.findings.first?.recordID == "r4", "\(b.findings)")
        #expect(b.findings.first?.description.contains("deleted or inserted") == true)
    }

    @Test func reorderedAndInsertedRecordsAreNamed() throws {
        let (store, _) = try recorded()
        try tamper(
            store,
            "UPDATE onemap_checks SET seq = 99 WHERE id = 'r2'; UPDATE onemap_checks SET seq = 2 WHERE id = 'r4'; UPDATE onemap_checks SET seq = 4 WHERE id = 'r2'"
        )
        let v = try verify(store)
        #expect(v.findings.first?.kind == .reordered && v.findings.first?.recordID == "r2", "\(v.findings)")
        let (inserted, _) = try recorded()
        try tamper(
            inserted,
            """
            INSERT INTO onemap_checks(seq, id, created_at, verdict, input_format, input, site, layer_versions, result, geojson)
            VALUES (3, 'forged', '2026-12-07T10:02:30.000Z', 'clear', 'geojson', X'', '{}', '{}', X'', X'');
            """.replacingOccurrences(of: "VALUES (3,", with: "VALUES (6,"))
        let i = try verify(inserted)
        #expect(i.findings.map(\.kind) == [.inserted] && i.findings.first?.recordID == "forged", "\(i.findings)")
    }

    /// Records dropped from the end, links and all, leave a chain that holds in itself: only
    /// the head kept apart shows it.
    @Test func recordsCutFromTheEndAreCaughtByTheKeptHead() throws {
        let (store, _) = try recorded()
        let kept = try #require(try verify(store).head)
        try tamper(store, "DELETE FROM onemap_checks WHERE seq > 3; DELETE FROM onemap_record_chain WHERE seq > 3")
        let v = try verify(store, head: kept)
        #expect(v.findings.map(\.kind) == [.head] && v.checked == 3, "\(v.findings)")
        #expect(v.findings.first?.description.contains("kept head 5 r5") == true)
    }

    /// Records stored before the chain existed are linked when the records are next opened.
    @Test func recordsFromBeforeTheChainAreLinkedOnce() throws {
        let (store, _) = try recorded()
        try tamper(store, "DELETE FROM onemap_record_chain WHERE seq > 2")
        #expect(try verify(store).findings.map(\.kind).filter { $0 != .head } == [.inserted, .inserted, .inserted])
        _ = CheckRecords(store: store)
        let v = try verify(store, head: nil)
        #expect(v.checked == 5)
        #expect(!v.findings.contains { $0.kind != .head }, "\(v.findings)")
    }
}
