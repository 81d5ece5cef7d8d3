import Conflicts
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing

@testable import OneMapServer

/// One small request must not store tens of megabytes forever, nor anyone post checks without
/// end under --open: a check's answer has a cap (413, nothing stored), and anonymous checks a
/// per-client rate (429 with Retry-After).
struct CheckLimitsTests {
    static func storedChecks(_ store: Store) async throws -> Int {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") ?? -1 }
    }

    @Test func aSmallSiteWithAHugeAnswerIs413AndStoresNothing() async throws {
        // A cap of 200 KiB, passed by 1,600 conflicting parcels (the default 4 MiB, by ~15,000).
        let (store, site) = try storeWithManyParcels(side: 40)
        #expect(site.utf8.count < 140, "a small request: \(site.utf8.count) bytes")
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true, limits: .init(maxAnswerBytes: 200 << 10)))
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: site))
            #expect(r.status == .contentTooLarge, "\(r.status) \(r.body.readableBytes) bytes")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
            #expect(body["code"] as? String == "ContentTooLarge")
            let detail = body["detail"] as? String ?? ""
            #expect(
                detail.contains("over the limit of 0.2 MiB") && detail.contains("layers=") && detail.contains("farmland 1600")
                    && detail.contains("smaller site") && detail.contains("nothing was stored"), "\(detail)")
            #expect(try await Self.storedChecks(store) == 0)
        }
        // Under the default cap it is taken.
        let roomy = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await roomy.test(.router) { client in
            let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: site))
            #expect(r.status == .created)
            #expect(try await Self.storedChecks(store) == 1)
        }
    }

    /// The command line records through the same cap (`onemap check --max-answer`).
    @Test func recordsPastTheCapAreNotWritten() throws {
        let store = try farmlandStore()
        let site = try SiteReader.geoJSON(Data(siteOverP.utf8))
        let outcome = try ConflictChecker(store: store).check(site)
        let request = CheckRecords.Request(
            projectCode: nil, projectName: nil, keyName: "cli:test", inputFormat: "geojson", input: Data(siteOverP.utf8))
        do {
            _ = try CheckRecords(store: store, maxAnswerBytes: 500).save(outcome, request: request)
            Issue.record("a record past the cap was saved")
        } catch let e as AnswerTooLarge {
            #expect(e.limit == 500 && e.bytes > 500)
        }
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") } == 0)
        _ = try CheckRecords(store: store).save(outcome, request: request)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") } == 1)
    }

    @Test func anonymousChecksUnderOpenAreRateLimitedPerClient() async throws {
        let store = try farmlandStore()
        let approver = try KeyRing(store: store).create(role: .approver, name: "审批系统").secret
        var configuration = ServerConfiguration(open: true, limits: .init(openChecksPerMinute: 2), trustProxy: true)
        // Time stands still: under a loaded test run this test once took longer than the 30 s
        // a token takes to come back.
        let now = ContinuousClock.now
        configuration.openRateClock = { now }
        let app = buildApplication(store: store, configuration: configuration)
        try await app.test(.router) { client in
            func post(_ headers: HTTPFields = [:], uri: String = "/v1/checks") async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: siteOverP))
            }
            var made: [String] = []
            // Two a minute: a token comes back only after 30 s, and the clock is held still.
            for _ in 0..<2 {
                let r = try await post()
                #expect(r.status == .created)
                if let id = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])?["id"] as? String {
                    made.append(id)
                }
            }
            let refused = try await post()
            #expect(refused.status == .tooManyRequests)
            let wait = Int(refused.headers[.retryAfter] ?? "") ?? 0
            #expect((1...30).contains(wait), "Retry-After \(wait)")
            #expect(String(buffer: refused.body).contains("2 a minute per client"))
            // A rerun is a check too; a key is not limited; another client has its own bucket.
            #expect(try await client.execute(uri: "/v1/checks/\(made[0])/rerun", method: .post).status == .tooManyRequests)
            #expect(try await post([.authorization: "Bearer \(approver)"]).status == .created)
            #expect(try await post([HTTPFields.Element.Name("X-Forwarded-For")!: "10.0.0.2"]).status == .created)
            #expect(try await Self.storedChecks(store) == 4)
        }
    }

    @Test func theBucketRefillsOverTheMinute() throws {
        let limit = ClientRateLimit(perMinute: 6)
        let t0 = ContinuousClock.now
        for _ in 0..<6 { try limit.take("a", now: t0) }
        #expect(throws: Problem.self) { try limit.take("a", now: t0) }
        try limit.take("b", now: t0)
        // One token every 10 s.
        #expect(throws: Problem.self) { try limit.take("a", now: t0 + .seconds(9)) }
        try limit.take("a", now: t0 + .seconds(10.5))
        #expect(throws: Problem.self) { try limit.take("a", now: t0 + .seconds(11)) }
    }
}
