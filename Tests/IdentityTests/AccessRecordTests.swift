import Conflicts
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Identity
import LayerStore
import OneMapServer
import Testing

/// Every answer holding restricted features is on record (who, what, how many, when, the
/// request id), readable by admins only, and on a hash chain that names tampering.
struct AccessRecordTests {
    let fixture: SignInFixture
    var store: Store { fixture.store }
    var idp: TestIssuer { fixture.idp }

    init() async throws { fixture = try await SignInFixture() }

    func app() -> some ApplicationProtocol { fixture.app() }

    struct Page: Decodable {
        let items: [AccessRecords.Record]
        let total: Int
    }

    @Test func readsOfRestrictedLayersAreRecorded() async throws {
        let viewer = try await idp.token(sub: "u-7", name: "李四", roles: ["om-viewer"])
        let suichang = try await idp.token(sub: "p-1", name: "遂昌规划", roles: ["om-planner"], xzqdm: ["331123"])
        let admin = try await idp.token(sub: "root", roles: ["om-admin"])
        try await app().test(.router) { client in
            func get(_ uri: String, _ token: String?, id: String? = nil) async throws -> TestResponse {
                var headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
                if let id { headers[HTTPFields.Element.Name("X-Request-Id")!] = id }
                return try await client.execute(uri: uri, method: .get, headers: headers)
            }
            #expect(try await get("/collections/secret/items", viewer, id: "req-items").status == .ok)
            #expect(try await get("/collections/secret/items/S-QT", viewer, id: "req-item").status == .ok)
            #expect(try await get("/v1/identify?lon=120.001&lat=28.001", viewer, id: "req-identify").status == .ok)
            #expect(try await get("/tiles/secret/14/13653/6863.mvt", viewer, id: "req-tile").status == .ok)
            #expect(try await get("/collections/secret/items?bbox=120.15,27.95,120.25,28.05", suichang, id: "req-scoped").status == .ok)
            // Public data, and answers without restricted features, are not access records.
            #expect(try await get("/collections/farmland/items", viewer).status == .ok)
            #expect(try await get("/v1/identify?lon=119.95&lat=27.95", viewer).status == .ok)

            #expect(try await get("/v1/access", viewer).status == .forbidden)
            #expect(try await get("/v1/access", nil).status == .unauthorized)
            let answer = try await get("/v1/access", admin)
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
            let page = try JSONDecoder().decode(Page.self, from: Data(buffer: answer.body))
            let byRequest = Dictionary(uniqueKeysWithValues: page.items.compactMap { r in r.requestID.map { ($0, r) } })
            #expect(page.total == 5, "\(page.items.map { "\($0.route) \($0.what)" })")
            let items = try #require(byRequest["req-items"])
            #expect(items.who == "sso:李四 (u-7)" && items.subject == "u-7" && items.layer == "secret" && items.returned == 3)
            #expect(byRequest["req-item"]?.what == "item S-QT" && byRequest["req-item"]?.returned == 1)
            #expect(byRequest["req-identify"]?.route == "GET /v1/identify" && byRequest["req-identify"]?.returned == 1)
            #expect(
                byRequest["req-tile"]?.what.hasPrefix("tile WebMercatorQuad 14/13653/6863") == true
                    && byRequest["req-tile"]?.returned == nil)
            // A scoped read that found nothing in its scope is on record too, with its count.
            #expect(byRequest["req-scoped"]?.returned == 0 && byRequest["req-scoped"]?.who == "sso:遂昌规划 (p-1)")

            let mineAnswer = try await get("/v1/access?who=sso:%E6%9D%8E%E5%9B%9B%20(u-7)", admin)
            let mine = try JSONDecoder().decode(Page.self, from: Data(buffer: mineAnswer.body))
            #expect(mine.total == 4)
            let futureAnswer = try await get("/v1/access?since=2999-01-01", admin)
            let future = try JSONDecoder().decode(Page.self, from: Data(buffer: futureAnswer.body))
            #expect(future.total == 0)
            let bad = try await get("/v1/access?since=yesterday", admin)
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("since=yesterday"))
        }
        // The chain over them holds, and its head is kept beside the records file.
        let verified = try await store.pool.read { db in
            try AccessRecords.verify(db, keptHead: AccessRecords.readHead(records: store.recordsPath))
        }
        #expect(verified.findings.isEmpty && verified.checked == 5, "\(verified.findings)")
        #expect(AccessRecords.readHead(records: store.recordsPath)?.seq == 5)
    }

    @Test func tamperingWithAccessRecordsIsNamed() throws {
        let records = AccessRecords(store: store)
        for n in 1...4 {
            records.note(
                AccessRecords.Note(
                    who: "审批系统", subject: nil, route: "GET /collections/{id}/items", layer: "secret", what: "items?n=\(n)",
                    returned: n, requestID: "r\(n)"))
        }
        try records.flush()
        let ids = try records.list().items.sorted { $0.seq < $1.seq }.map(\.id)
        #expect(ids.count == 4)
        // `since` down to the second, Z and all, takes in the records of that very second.
        let first = try #require(try records.list().items.last)
        #expect(try records.list(since: String(first.at.prefix(19)) + "Z").total == 4)
        func tamper(_ sql: String) throws {
            let raw = try DatabaseQueue(path: store.recordsPath)
            try raw.writeWithoutTransaction { db in
                for trigger in ["onemap_access_no_update", "onemap_access_no_delete"] {
                    try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)")
                }
                try db.execute(sql: sql)
            }
            try raw.close()
        }
        func findings() throws -> [RecordChain.Finding] {
            try store.pool.read { db in
                try AccessRecords.verify(db, keptHead: AccessRecords.readHead(records: self.store.recordsPath)).findings
            }
        }
        #expect(try findings().isEmpty)
        // The count of features read, lowered after the fact.
        try tamper("UPDATE onemap_access SET returned = 0 WHERE id = '\(ids[1])'")
        #expect(try findings().map(\.kind) == [.changed] && findings().first?.recordID == ids[1])
        // A read removed: named as deleted.
        try tamper("DELETE FROM onemap_access WHERE id = '\(ids[2])'")
        #expect(try findings().contains { $0.kind == .deleted && $0.recordID == ids[2] })
        // A read made up afterwards: not on the chain.
        try tamper(
            "INSERT INTO onemap_access(id, at, who, route, layer, what) VALUES ('acc_forged', '2026-12-07T00:00:00.000Z', 'x', 'GET /tiles', 'secret', 'tile')"
        )
        #expect(try findings().contains { $0.kind == .inserted && $0.recordID == "acc_forged" })
    }
}
