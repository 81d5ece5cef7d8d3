import Foundation
import GRDB
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing

@testable import Features

/// Spatial filters, bad filters and injection attempts, through the HTTP API.
struct FeatureFilterTests {
    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    func ids(_ client: some TestClientProtocol, _ filter: String, extra: String = "") async throws -> [String] {
        let r = try await client.get("/collections/parcels/items?limit=1000&filter=\(q(filter))\(extra)")
        #expect(r.status == .ok, "\(filter): \(r.text.prefix(300))")
        return try r.ids().sorted()
    }

    @Test func spatialFunctions() async throws {
        try await fixtures.app().test(.router) { client in
            // A point strictly inside cell (3, 5), and one on the corner shared by four cells.
            let v70621 = try await ids(client, "S_INTERSECTS(geometry, POINT(120.0035 28.0055))")
            #expect(v70621 == ["P53"])
            let v46982 = try await ids(client, "S_INTERSECTS(geometry, POINT(120.001 28.001))")
            #expect(v46982 == ["P00", "P01", "P10", "P11"])
            // A line that crosses cell edges away from their corners: exactly the cells it passes through.
            let line = try await ids(client, "S_INTERSECTS(geometry, LINESTRING(120.0005 28.0005, 120.0025 28.0015))")
            #expect(line == ["P00", "P01", "P11", "P12"])
            // Within: cells wholly inside the polygon; a polygon edge on cell edges still counts as within.
            let within = try await ids(client, "S_WITHIN(geometry, POLYGON((120 28, 120.002 28, 120.002 28.002, 120 28.002, 120 28)))")
            #expect(within == ["P00", "P01", "P10", "P11"])
            let v64074 = try await ids(client, "S_WITHIN(geometry, BBOX(120.0001, 28.0001, 120.0019, 28.0019))")
            #expect(v64074 == [])
            // S_CONTAINS: the feature contains the literal; the literal first flips it to within.
            let v18977 = try await ids(client, "S_CONTAINS(geometry, POINT(120.0035 28.0055))")
            #expect(v18977 == ["P53"])
            #expect(try await ids(client, "S_CONTAINS(geometry, POINT(120.003 28.0055))") == [])  // on the boundary only
            let v10185 = try await ids(client, "S_WITHIN(POINT(120.0035 28.0055), geometry)")
            #expect(v10185 == ["P53"])
            #expect(
                try await ids(
                    client, "S_EQUALS(geometry, POLYGON((120.001 28.001, 120.002 28.001, 120.002 28.002, 120.001 28.002, 120.001 28.001)))")
                    == ["P11"])
            // Disjoint combined with an attribute test.
            let v52866 = try await ids(client, "GJ = 0 AND S_DISJOINT(geometry, BBOX(120, 28, 120.0095, 28.0095))")
            #expect(v52866 == ["T"])
            // OR and NOT around spatial tests (no R*Tree narrowing there; still exact).
            let v32047 = try await ids(client, "S_INTERSECTS(geometry, POINT(120.0035 28.0055)) OR BSM = 'T'")
            #expect(v32047 == ["P53", "T"])
            let v44360 = try await ids(client, "NOT S_INTERSECTS(geometry, BBOX(120, 28, 120.0095, 28.0095))")
            #expect(v44360 == ["T"])
            // The triangle's box holds this point; the triangle does not.
            let v80688 = try await ids(client, "S_INTERSECTS(geometry, POINT(120.029 28.009))")
            #expect(v80688 == [])
            // filter-crs: EPSG:4326 literals are latitude first.
            let v67242 = try await ids(client, "S_INTERSECTS(geometry, POINT(28.0055 120.0035))", extra: "&filter-crs=EPSG:4326")
            #expect(v67242 == ["P53"])
            let t = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4549")
            let p = try t.transform(Coordinate(120.0035, 28.0055))
            #expect(try await ids(client, "S_INTERSECTS(geometry, POINT(\(p.y) \(p.x)))", extra: "&filter-crs=EPSG:4549") == ["P53"])
            // Combined with bbox: both apply.
            let v16243 = try await ids(
                client, "S_INTERSECTS(geometry, BBOX(120.0005, 28.0005, 120.0025, 28.0015))",
                extra: "&bbox=120.0015,28.0005,120.0045,28.0045")
            #expect(v16243 == ["P01", "P02", "P11", "P12"])
        }
    }

    /// Every malformed or unanswerable filter is a 400 with an OGC exception that says why.
    @Test(
        arguments: [
            ("DLBM = ", "malformed CQL2"),
            ("NOPE = 1", "unknown property 'NOPE'"),
            ("DLBM = 0101", "quote the value"),
            ("TBMJ = '100'", "cannot compare"),
            ("GJ LIKE '1%'", "at character 1: LIKE needs text"),
            ("geometry = 1", "spatial functions"),
            ("S_FOO(geometry, POINT(120 28))", "unknown function S_FOO()"),
            ("S_INTERSECTS(DLBM, POINT(120 28))", "not a geometry"),
            ("S_INTERSECTS(geometry, 3)", "expected a geometry"),
            ("S_INTERSECTS(geometry, POLYGON((120 28, 120.01 28.01, 120.01 28, 120 28.01, 120 28)))", "not valid"),
            ("TBMJ = GJ + ", "malformed CQL2"),
            ("DLBM = '0101' -- comment", "'-' needs numbers"),
            ("GJ = 1 AND NOPE = 1", "at character 12: unknown property 'NOPE'"),
            ("GJ = 1 OR TBMJ = '100'", "at character 11: cannot compare"),
            ("CASEI(GJ) = 'a'", "CASEI needs text"),
            ("DLBM = '0101'; DROP TABLE lyr_parcels_1", "malformed CQL2"),
            ("DLBM = '0101' UNION SELECT name FROM sqlite_master", "malformed CQL2"),
            ("1=1) OR (1=1", "malformed CQL2"),
            ("\"DLBM\" = '1' OR \"x\"\" = 1", "malformed CQL2")
        ] as [(String, String)])
    func badFiltersAre400(_ filter: String, _ message: String) async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?filter=\(q(filter))")
            #expect(r.status == .badRequest, "\(filter)")
            #expect(try r.code() == "InvalidParameterValue", "\(filter)")
            let description = try r.json()["detail"] as? String ?? ""
            #expect(description.contains(message), "\(filter): \(description)")
        }
    }

    @Test func filterParametersAreChecked() async throws {
        try await fixtures.app().test(.router) { client in
            let r30592 = try await client.get("/collections/parcels/items?filter=BSM%3D'P00'&filter-lang=cql2-json")
            #expect(r30592.status == .badRequest)
            let r17401 = try await client.get("/collections/parcels/items?filter-lang=cql2-text")
            #expect(r17401.status == .badRequest)
            let r97704 = try await client.get("/collections/parcels/items?filter=BSM%3D'P00'&filter-crs=EPSG:1234")
            #expect(r97704.status == .badRequest)
            let r83408 = try await client.get("/collections/parcels/items?datetime=yesterday")
            #expect(r83408.status == .badRequest)
            // A valid datetime selects everything: the layers carry no time.
            let dt = try await client.get("/collections/parcels/items?datetime=2024-01-01T00:00:00Z/..")
            #expect(try dt.status == .ok && dt.json()["numberMatched"] as? Int == 101)
        }
    }

    /// Injection strings in every parameter are bad values (400) or values that match
    /// nothing, and the database is untouched afterwards.
    @Test func injectionAttemptsAreJustBadValues() async throws {
        let hostile = [
            "' OR 1=1 --", "0101'; DROP TABLE onemap_layers; --", "\" OR \"\"=\"", "1) OR (1=1", "%27%20OR%201%3D1",
            "lyr_parcels_1", "*/ SELECT 1 /*", "\u{0}", "' UNION SELECT sql FROM sqlite_master --"
        ]
        let parameters = [
            "bbox", "bbox-crs", "crs", "limit", "offset", "properties", "sortby", "filter", "filter-lang", "filter-crs",
            "datetime", "DLBM", "GJ", "f"
        ]
        try await fixtures.app().test(.router) { client in
            for value in hostile {
                for name in parameters {
                    let extra =
                        name == "bbox-crs" ? "&bbox=120,28,121,29" : (name == "filter-lang" || name == "filter-crs" ? "&filter=GJ%3D1" : "")
                    let r = try await client.get("/collections/parcels/items?\(name)=\(q(value))\(extra)")
                    if r.status == .ok {
                        // Only a text equality filter may accept the value, and then it matches nothing.
                        #expect(name == "DLBM", "\(name)=\(value) answered 200")
                        #expect(try r.json()["numberMatched"] as? Int == 0)
                    } else {
                        #expect(r.status == .badRequest, "\(name)=\(value): \(r.status)")
                        #expect(try r.code() == "InvalidParameterValue", "\(name)=\(value)")
                    }
                }
                let item = try await client.get("/collections/parcels/items/\(q(value))")
                #expect(item.status == .notFound)
                let collection = try await client.get("/collections/\(q(value))/items")
                #expect(collection.status == .notFound)
            }
            let all = try await client.get("/collections/parcels/items")
            #expect(try all.json()["numberMatched"] as? Int == 101)
            let count = try await fixtures.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_layers") }
            #expect(count == 3)
        }
    }

    @Test func htmlItemsForABrowser() async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?limit=5&DLBM=0101", accept: "text/html,*/*;q=0.8")
            #expect(r.status == .ok && r.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = r.text
            #expect(html.contains("<table>") && html.contains("<svg") && html.contains("P00"))
            #expect(html.contains("next →") && html.contains("f=html"))
            #expect(html.contains("Features 1–5 of 41."))
            // Text from the data is escaped.
            let t = try await client.get("/collections/parcels/items/T?f=html")
            #expect(t.text.contains("it&#39;s &quot;quoted&quot;"))
            let list = try await client.get("/collections?f=html")
            #expect(list.text.contains("示例地块") && !list.text.contains("涉密"))
        }
    }
}
