import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Features

/// Valid filters too large for SQLite (1,000 AND-ed terms, ~48 nested NOTs, an IN list past
/// SQLite's bound values) would fail inside SQLite as 500s. They are the caller's 400, with the
/// reason and the character; filters just within the bounds still run.
struct FilterSizeTests {
    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    static func and(_ n: Int) -> String { (0..<n).map { _ in "GJ >= 0" }.joined(separator: " AND ") }
    static func nots(_ n: Int) -> String { String(repeating: "NOT ", count: n) + "GJ = 3" }
    static func inList(_ n: Int) -> String { "GJ IN (" + (0..<n).map { String($0 % 10) }.joined(separator: ",") + ")" }

    func items(_ client: some TestClientProtocol, _ filter: String) async throws -> HTTPResult {
        try await client.get("/collections/parcels/items?limit=1000&filter=\(q(filter))")
    }

    @Test func filtersPastSQLitesLimitsAre400WithTheReasonAndPlace() async throws {
        try await fixtures.app().test(.router) { client in
            for (filter, reason) in [
                (Self.and(1_000), "more than \(CQL2Parser.maxPredicates) conditions"),
                (Self.nots(48), "nest more than \(CQL2Parser.maxNesting) deep"),
                ("(" + Self.nots(30) + ") OR BSM = 'P00'", "nest more than"),
                (Self.inList(40_000), "more than \(CQL2Parser.maxValues) values")
            ] {
                let r = try await items(client, filter)
                #expect(r.status == .badRequest, "\(filter.prefix(60)): \(r.status) \(r.text.prefix(300))")
                #expect(try r.code() == "InvalidParameterValue")
                let description = try r.json()["detail"] as? String ?? ""
                #expect(description.contains(reason) && description.contains("at character "), "\(description)")
            }
        }
    }

    @Test func filtersWithinTheBoundsRun() async throws {
        try await fixtures.app().test(.router) { client in
            let every = try await items(client, "GJ >= 0").ids()
            #expect(every.count >= 100)
            let all = try await items(client, Self.and(CQL2Parser.maxPredicates))
            #expect(all.status == .ok, "\(all.text.prefix(300))")
            #expect(try all.ids() == every)
            // An even number of NOTs is the condition itself: row GJ = 3 of the grid.
            let notted = try await items(client, Self.nots(CQL2Parser.maxNesting))
            #expect(notted.status == .ok, "\(notted.text.prefix(300))")
            #expect(try notted.ids().count == 10)
            let listed = try await items(client, Self.inList(CQL2Parser.maxValues - 1))
            #expect(listed.status == .ok, "\(listed.text.prefix(300))")
            #expect(try listed.ids() == every)
        }
    }
}
