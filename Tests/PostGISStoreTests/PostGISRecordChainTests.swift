import Conflicts
import Foundation
import LayerStore
import PostGISStore
import Testing

/// The chain over the check records in PostgreSQL: linked by the database as replicas store
/// them, at once from several, and naming each kind of tampering done straight in the database.
struct PostGISRecordChainTests {
    static func record(_ n: Int) -> CheckRecords.Record {
        let summary = CheckRecords.Summary(
            id: "pg-r\(n)", createdAt: "2026-12-07T11:00:\(n < 10 ? "0" : "")\(n).000Z", projectCode: n == 2 ? nil : "P-\(n)",
            projectName: "项目\(n)", verdict: n % 2 == 0 ? "forbidden" : "clear", keyName: "审批系统")
        let input = Data("{\"n\": \(n)}".utf8)
        let result = Data("{\"verdict\": \(n)}".utf8)
        return CheckRecords.Record(
            summary: summary, inputFormat: "geojson", input: input, site: #"{"type":"Point","coordinates":[120,28]}"#,
            versions: [:], result: result, geojson: Data())
    }

    func verify(_ url: String, head: RecordChain.Head? = nil) async throws -> RecordChain.Verification {
        try await PostGISDatabase.with(try PostGISLocation(url: url)) { try await $0.verifyRecordChain(keptHead: head) }
    }

    @Test func replicasStoringAtOnceMakeOneChainThatNamesTampering() async throws {
        guard let url = try await TestDatabase.fresh() else { return }
        let location = try PostGISLocation(url: url)
        // Make the schema, then two replicas store 20 records each, at the same time.
        try await PostGISDatabase.with(location) { _ in }
        let replicas = [PostGISRecords(location: location), PostGISRecords(location: location)]
        defer { for r in replicas { r.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, replica) in replicas.enumerated() {
                group.addTask {
                    for n in 1...20 { try replica.store(Self.record(k * 20 + n)) }
                }
            }
            try await group.waitForAll()
        }
        let clean = try await verify(url)
        #expect(clean.findings.isEmpty && clean.checked == 40, "\(clean.findings)")
        let head = try #require(clean.head)
        #expect(head.hash.count == 64)
        // The links are the same bytes a records file hashes: one record's link recomputed here.
        #expect(
            try await TestDatabase.values(url, "SELECT count(*) FROM onemap.record_chain", as: Int.self) == [40])

        _ = try await TestDatabase.values(url, "UPDATE onemap.checks SET verdict = 'clear' WHERE id = 'pg-r2' RETURNING 1", as: Int.self)
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.checks WHERE id = 'pg-r5' RETURNING 1", as: Int.self)
        _ = try await TestDatabase.values(
            url,
            """
            INSERT INTO onemap.checks(id, created_at, verdict, input_format, input, site, layer_versions, result)
            SELECT 'forged', '2026-12-07T11:00:30.000Z', 'clear', 'geojson', ''::bytea, '{}', '{}', ''::bytea
            RETURNING 1
            """, as: Int.self)
        // The forged row went through the trigger, so it is on the chain; forge it off the chain.
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.record_chain WHERE record_id = 'forged' RETURNING 1", as: Int.self)
        let tampered = try await verify(url, head: head)
        let named = Dictionary(tampered.findings.map { ($0.recordID ?? "", $0.kind) }, uniquingKeysWith: { a, _ in a })
        #expect(named["pg-r2"] == .changed && named["pg-r5"] == .deleted && named["forged"] == .inserted, "\(tampered.findings)")
        // The kept head still holds: nothing was cut from the end.
        #expect(!tampered.findings.contains { $0.kind == .head })

        // Cut from the end, links and all: only the kept head shows it.
        let last = head.recordID
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.checks WHERE id = '\(last)' RETURNING 1", as: Int.self)
        _ = try await TestDatabase.values(url, "DELETE FROM onemap.record_chain WHERE record_id = '\(last)' RETURNING 1", as: Int.self)
        let cut = try await verify(url, head: head)
        #expect(cut.findings.contains { $0.kind == .head && $0.description.contains("kept head") })
    }
}
