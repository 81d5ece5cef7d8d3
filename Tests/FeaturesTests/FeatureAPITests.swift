import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import OneMapServer
import Testing

@testable import Features

/// The feature API end to end through the real router, in-process.
struct FeatureAPITests {
    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    @Test func landingConformanceAndNegotiation() async throws {
        try await fixtures.app().test(.router) { client in
            let landing = try await client.get("/")
            #expect(landing.status == .ok)
            #expect(landing.headers[.contentType]?.hasPrefix("application/json") == true)
            let links = try #require(try landing.json()["links"] as? [[String: Any]])
            let rels = Set(links.compactMap { $0["rel"] as? String })
            #expect(rels.isSuperset(of: ["self", "service-desc", "conformance", "data"]))
            #expect(
                links.first { $0["rel"] as? String == "service-desc" }?["type"] as? String == "application/vnd.oai.openapi+json;version=3.0"
            )

            let browser = try await client.get("/", accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            #expect(browser.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(browser.text.contains("<a href=") && browser.text.contains("/collections"))
            let r57749 = try await client.get("/?f=json", accept: "text/html").headers[.contentType]?.hasPrefix("application/json")
            #expect(r57749 == true)
            let r59807 = try await client.get("/", accept: "*/*").headers[.contentType]?.hasPrefix("application/json")
            #expect(r59807 == true)
            let badFormat = try await client.get("/?f=xml")
            #expect(try badFormat.status == .badRequest && badFormat.code() == "InvalidParameterValue")

            let conformance = try await client.get("/conformance")
            let classes = try #require(try conformance.json()["conformsTo"] as? [String])
            #expect(classes.starts(with: FeatureService.conformance), "the features classes, then the tiles ones")
            #expect(classes.contains("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"))
            #expect(classes.contains("http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions"))
            // No layer has a time, so the temporal functions are not claimed.
            #expect(!classes.contains("http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions"))
            #expect(try await client.get("/conformance?f=html").text.contains("ogcapi-features-1/1.0/conf/core"))
        }
    }

    @Test func restrictedLayersAreInvisible() async throws {
        try await fixtures.app().test(.router) { client in
            let collections = try await client.get("/collections")
            let list = try #require(try collections.json()["collections"] as? [[String: Any]])
            #expect(list.compactMap { $0["id"] as? String } == ["parcels", "pipes"])
            for path in [
                "/collections/secret", "/collections/secret/items", "/collections/secret/items/S1", "/collections/secret/queryables"
            ] {
                let r = try await client.get(path)
                #expect(r.status == .notFound, "\(path)")
                #expect(try r.code() == "NotFound", "\(path)")
                #expect(!r.text.contains("涉密"))
            }
            let r26296 = try await client.get("/collections/nope")
            #expect(r26296.status == .notFound)
            // The same answer for a restricted and an unknown layer: nothing leaks.
            let a = try await client.get("/v1/identify?lon=120.0005&lat=28.0005&layers=secret")
            let b = try await client.get("/v1/identify?lon=120.0005&lat=28.0005&layers=nosuch")
            #expect(a.status == .notFound && b.status == .notFound)
            #expect(a.text.replacingOccurrences(of: "secret", with: "X") == b.text.replacingOccurrences(of: "nosuch", with: "X"))
            let all = try await client.get("/v1/identify?lon=120.0005&lat=28.0005")
            #expect(try all.features().allSatisfy { $0["layer"] as? String != "secret" })
        }
    }

    @Test func collectionDescribesExtentAndCRS() async throws {
        try await fixtures.app().test(.router) { client in
            let c = try await client.get("/collections/parcels").json()
            #expect(c["id"] as? String == "parcels" && c["title"] as? String == "示例地块" && c["itemType"] as? String == "feature")
            #expect(c["storageCrs"] as? String == "http://www.opengis.net/def/crs/EPSG/0/4490")
            let crs = try #require(c["crs"] as? [String])
            #expect(crs.first == "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
            #expect(
                Set(crs)
                    == Set(
                        ["4490", "4326", "3857", "4528", "4549"].map { "http://www.opengis.net/def/crs/EPSG/0/\($0)" } + [
                            "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
                        ]))
            let extent = try #require(((c["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])
            #expect(
                abs(extent[0][0] - 120) < 1e-9 && abs(extent[0][1] - 28) < 1e-9 && abs(extent[0][2] - 120.03) < 1e-9
                    && abs(extent[0][3] - 28.01) < 1e-9)
            let links = try #require(c["links"] as? [[String: Any]])
            #expect(links.contains { $0["rel"] as? String == "items" && $0["type"] as? String == "application/geo+json" })
            #expect(links.contains { $0["rel"] as? String == "http://www.opengis.net/def/rel/ogc/1.0/queryables" })
            let html = try await client.get("/collections/parcels", accept: "text/html")
            #expect(html.text.contains("示例地块") && html.text.contains("TBMJ"))
        }
    }

    @Test func queryablesListTypedProperties() async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/queryables")
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/schema+json")
            let doc = try r.json()
            let props = try #require(doc["properties"] as? [String: [String: Any]])
            #expect(Set(props.keys) == ["BSM", "DLBM", "DLMC", "TBMJ", "GJ", "geometry"])
            #expect(props["BSM"]?["type"] as? String == "string")
            #expect(props["TBMJ"]?["type"] as? String == "number")
            #expect(props["GJ"]?["type"] as? String == "integer")
            #expect(props["geometry"]?["format"] as? String == "geometry-multipolygon")
            #expect(doc["additionalProperties"] as? Bool == false)
        }
    }

    @Test func pagingFollowsNextLinksToTheEnd() async throws {
        try await fixtures.app().test(.router) { client in
            let first = try await client.get("/collections/parcels/items")
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == "application/geo+json")
            let doc = try first.json()
            #expect(doc["numberMatched"] as? Int == 101 && doc["numberReturned"] as? Int == 10)
            #expect(try first.ids().count == 10)
            var links = try #require(doc["links"] as? [[String: Any]])
            #expect(!links.contains { $0["rel"] as? String == "prev" })
            var seen = try first.ids()
            var pages = 1
            // Follow `next` with limit 7 until it disappears: every feature exactly once.
            var next: String? = "/collections/parcels/items?limit=7&offset=10"
            while let href = next {
                let url = try #require(URL(string: href))
                let path = url.path + (url.query.map { "?" + $0 } ?? "")
                let page = try await client.get(path)
                #expect(page.status == .ok)
                let d = try page.json()
                #expect(d["numberMatched"] as? Int == 101)
                seen += try page.ids()
                links = try #require(d["links"] as? [[String: Any]])
                #expect(links.contains { $0["rel"] as? String == "prev" })
                next = links.first { $0["rel"] as? String == "next" }?["href"] as? String
                pages += 1
                #expect(pages < 30)
                if pages >= 30 { break }
            }
            #expect(seen.count == 101 && Set(seen).count == 101)
            #expect(pages == 1 + 13)  // 91 features in pages of 7

            let second = try await client.get("/collections/parcels/items?limit=10&offset=10").json()
            let secondLinks = try #require(second["links"] as? [[String: Any]])
            let prev = try #require(secondLinks.first { $0["rel"] as? String == "prev" }?["href"] as? String)
            let nextHref = try #require(secondLinks.first { $0["rel"] as? String == "next" }?["href"] as? String)
            #expect(!prev.contains("offset=") && prev.contains("limit=10"))
            #expect(nextHref.contains("offset=20") && nextHref.contains("limit=10"))
            let beyond = try await client.get("/collections/parcels/items?offset=500").json()
            #expect(beyond["numberReturned"] as? Int == 0 && beyond["numberMatched"] as? Int == 101)
        }
    }

    @Test(arguments: ["limit=0", "limit=abc", "limit=-5", "limit=", "limit=1.5", "offset=-1", "offset=1.5", "limit=10&limit=20"])
    func limitAndOffsetOutOfRangeAre400(_ query: String) async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?\(query)")
            #expect(r.status == .badRequest, "\(query)")
            #expect(r.headers[.contentType] == "application/problem+json", "\(query)")
            #expect(try r.code() == "InvalidParameterValue", "\(query)")
            #expect(try (r.json()["detail"] as? String)?.isEmpty == false)
        }
    }

    /// /req/core/fc-limit-response-1: a limit above the server's maximum is no error. The page
    /// holds the maximum, and `next` (naming the limit served) goes on to every feature once.
    @Test(arguments: ["50000", "10001", "99999999999999999999999"])
    func limitAboveTheMaximumIsServedAsTheMaximum(_ limit: String) async throws {
        let app = buildApplication(store: fixtures.store, configuration: ServerConfiguration(open: true, limits: .init(maxPageSize: 40)))
        try await app.test(.router) { client in
            var next: String? = "/collections/parcels/items?limit=\(limit)"
            var seen: [String] = [], returned: [Int] = []
            while let uri = next, returned.count < 10 {
                let page = try await client.get(uri)
                #expect(page.status == .ok, "\(uri): \(page.text.prefix(200))")
                let json = try page.json()
                returned.append(json["numberReturned"] as? Int ?? -1)
                seen += try page.ids()
                let links = json["links"] as? [[String: Any]] ?? []
                next = (links.first { $0["rel"] as? String == "next" }?["href"] as? String)
                    .map { String($0[$0.range(of: "/collections")!.lowerBound...]) }
                if let n = next { #expect(n.contains("limit=40") && !n.contains("limit=\(limit)"), "\(n)") }
            }
            #expect(returned == [40, 40, 21], "\(limit)")
            #expect(seen.count == 101 && Set(seen).count == 101)
        }
        // With the default maximum (10,000) the 101 features are one page.
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?limit=\(limit)")
            let returned = try r.json()["numberReturned"] as? Int
            #expect(r.status == .ok && returned == 101, "\(limit)")
        }
    }

    @Test func maximumPageIsServed() async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?limit=10000")
            #expect(try r.json()["numberReturned"] as? Int == 101)
        }
    }

    @Test func bboxSelectsByExactGeometry() async throws {
        try await fixtures.app().test(.router) { client in
            // Inside cells i = 2…4, j = 1…2 (no edge touched).
            let r = try await client.get("/collections/parcels/items?bbox=120.0025,28.0015,120.0045,28.0025&limit=100")
            #expect(try Set(r.ids()) == ["P12", "P13", "P14", "P22", "P23", "P24"])
            #expect(try r.json()["numberMatched"] as? Int == 6)
            // The triangle's box reaches this corner; the triangle does not.
            let corner = try await client.get("/collections/parcels/items?bbox=120.029,28.009,120.0299,28.0099")
            #expect(try corner.ids() == [])
            let hit = try await client.get("/collections/parcels/items?bbox=120.021,28.001,120.022,28.002")
            #expect(try hit.ids() == ["T"])
            // Six numbers (with heights) are accepted; the heights are ignored.
            let six = try await client.get("/collections/parcels/items?bbox=120.0025,28.0015,0,120.0045,28.0025,100&limit=100")
            #expect(try six.ids().count == 6)
        }
    }

    @Test(arguments: [
        "bbox=1,2,3", "bbox=a,b,c,d", "bbox=120.1,28,120,28.1", "bbox=120,95,121,96", "bbox=", "bbox=1,2,3,4,5",
        "bbox=120,28,121,29&bbox-crs=EPSG:9999", "bbox-crs=EPSG:4326", "bbox=120,28,121,29&bbox-crs=http://example.com/crs"
    ])
    func badBboxIs400(_ query: String) async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?\(query)")
            #expect(r.status == .badRequest, "\(query)")
            #expect(try r.code() == "InvalidParameterValue", "\(query)")
        }
    }

    @Test func bboxInOtherCRSsFindsTheSameFeatures() async throws {
        try await fixtures.app().test(.router) { client in
            let expected: Set<String> = ["P12", "P13", "P14", "P22", "P23", "P24"]
            // EPSG:4326 and EPSG:4490 are latitude first.
            for crs in ["EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4490"] {
                let r = try await client.get(
                    "/collections/parcels/items?limit=100&bbox=28.0015,120.0025,28.0025,120.0045&bbox-crs=\(q(crs))")
                #expect(try Set(r.ids()) == expected, "\(crs)")
            }
            // Gauss–Krüger zone 40 (with the zone prefix) and CM 120E: northing first.
            for epsg in ["4528", "4549"] {
                let t = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:\(epsg)")
                let a = try t.transform(Coordinate(120.0026, 28.0016)), b = try t.transform(Coordinate(120.0044, 28.0024))
                let bbox = [min(a.y, b.y), min(a.x, b.x), max(a.y, b.y), max(a.x, b.x)].map { String($0) }.joined(separator: ",")
                let r = try await client.get("/collections/parcels/items?limit=100&bbox=\(bbox)&bbox-crs=EPSG:\(epsg)")
                #expect(try Set(r.ids()) == expected, "\(epsg)")
            }
            let t = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:3857")
            let a = try t.transform(Coordinate(120.0026, 28.0016)), b = try t.transform(Coordinate(120.0044, 28.0024))
            let r = try await client.get(
                "/collections/parcels/items?limit=100&bbox=\(a.x),\(a.y),\(b.x),\(b.y)&bbox-crs=\(q("http://www.opengis.net/def/crs/EPSG/0/3857"))"
            )
            #expect(try Set(r.ids()) == expected)
        }
    }

    func firstPosition(_ r: HTTPResult) throws -> [Double] {
        let doc = try r.json()
        let f = doc["type"] as? String == "Feature" ? doc : try #require(try r.features().first)
        let g = try #require(f["geometry"] as? [String: Any])
        let polygons = try #require(g["coordinates"] as? [[[[Double]]]])
        return polygons[0][0][0]
    }

    @Test func responseCRSAndAxisOrder() async throws {
        try await fixtures.app().test(.router) { client in
            let base = "/collections/parcels/items?filter=\(q("BSM = 'P00'"))"
            let crs84 = try await client.get(base)
            #expect(crs84.headers[HTTPFields.Element.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
            #expect(try firstPosition(crs84) == [120, 28])

            let wgs = try await client.get(base + "&crs=EPSG:4326")
            #expect(wgs.headers[HTTPFields.Element.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/EPSG/0/4326>")
            #expect(try firstPosition(wgs) == [28, 120])
            let storage = try await client.get(base + "&crs=\(q("http://www.opengis.net/def/crs/EPSG/0/4490"))")
            #expect(storage.headers[HTTPFields.Element.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/EPSG/0/4490>")
            #expect(try firstPosition(storage) == [28, 120])

            let mercator = try firstPosition(try await client.get(base + "&crs=EPSG:3857"))
            #expect(abs(mercator[0] - 120 * 20037508.342789244 / 180) < 0.01)
            let northing = 6378137.0 * log(tan(Double.pi / 4 + 28 * Double.pi / 360))  // 28°N in Web Mercator
            #expect(abs(mercator[1] - northing) < 0.01)

            for (epsg, easting) in [("4528", 40_500_000.0), ("4549", 500_000.0)] {
                let r = try await client.get(base + "&crs=EPSG:\(epsg)")
                #expect(r.headers[HTTPFields.Element.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/EPSG/0/\(epsg)>")
                let p = try firstPosition(r)
                // 120°E is the central meridian of both: northing first, then the false easting.
                #expect(abs(p[1] - easting) < 0.001, "\(epsg): \(p)")
                #expect(abs(p[0] - 3_098_441.75) < 1, "\(epsg): \(p)")
            }

            let one = try await client.get("/collections/parcels/items/P00?crs=EPSG:4326")
            #expect(one.headers[HTTPFields.Element.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/EPSG/0/4326>")
            #expect(try firstPosition(one) == [28, 120])
            for bad in ["EPSG:9999", "EPSG:4490x", "urn:ogc:def:crs:EPSG::2000", "'; DROP TABLE onemap_layers; --"] {
                let r = try await client.get("/collections/parcels/items?crs=\(q(bad))")
                #expect(try r.status == .badRequest && r.code() == "InvalidParameterValue", "\(bad)")
            }
        }
    }

    @Test func singleFeature() async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items/P37")
            #expect(r.status == .ok && r.headers[.contentType] == "application/geo+json")
            let f = try r.json()
            #expect(f["type"] as? String == "Feature" && f["id"] as? String == "P37")
            let props = try #require(f["properties"] as? [String: Any])
            #expect(props["DLBM"] as? String == "0102" && props["GJ"] as? Int == 3 && props["TBMJ"] as? Double == 803)
            #expect((f["links"] as? [[String: Any]])?.contains { $0["rel"] as? String == "collection" } == true)
            let quoted = try await client.get("/collections/parcels/items/T").json()
            #expect((quoted["properties"] as? [String: Any])?["DLMC"] as? String == "it's \"quoted\"")
            let missing = try await client.get("/collections/parcels/items/\(q("P37' OR '1'='1"))")
            #expect(try missing.status == .notFound && missing.code() == "NotFound")
            #expect(try await client.get("/collections/parcels/items/P37?f=html").text.contains("水浇地"))
            let r5657 = try await client.get("/collections/parcels/items/P37?limit=3")
            #expect(r5657.status == .badRequest)
        }
    }

    @Test func propertyEqualityPropertiesAndSorting() async throws {
        try await fixtures.app().test(.router) { client in
            let eq = try await client.get("/collections/parcels/items?DLBM=0103&limit=100")
            #expect(try eq.json()["numberMatched"] as? Int == 30)
            #expect(try eq.features().allSatisfy { ($0["properties"] as? [String: Any])?["DLBM"] as? String == "0103" })
            let both = try await client.get("/collections/parcels/items?DLBM=0101&GJ=2&limit=100")
            #expect(try Set(both.ids()) == ["P20", "P23", "P26", "P29"])
            // Not a number for an integer field, an unknown name, an injection: all 400 or no match.
            let r1084 = try await client.get("/collections/parcels/items?GJ=two")
            #expect(r1084.status == .badRequest)
            let unknown = try await client.get("/collections/parcels/items?NOPE=1")
            #expect(try unknown.status == .badRequest && unknown.code() == "InvalidParameterValue")
            let injection = try await client.get("/collections/parcels/items?DLBM=\(q("0101' OR '1'='1"))")
            #expect(try injection.status == .ok && injection.json()["numberMatched"] as? Int == 0)

            let some = try await client.get("/collections/parcels/items?properties=BSM,TBMJ&limit=3")
            #expect(try some.features().allSatisfy { Set(($0["properties"] as? [String: Any])?.keys.map { $0 } ?? []) == ["BSM", "TBMJ"] })
            let none = try await client.get("/collections/parcels/items?properties=&limit=1")
            #expect(try (none.features().first?["properties"] as? [String: Any])?.isEmpty == true)
            let r93669 = try await client.get("/collections/parcels/items?properties=BSM,NOPE")
            #expect(r93669.status == .badRequest)

            let sorted = try await client.get("/collections/parcels/items?sortby=-TBMJ&limit=3")
            #expect(try sorted.ids() == ["P99", "P89", "P79"])
            let plus = try await client.get("/collections/parcels/items?sortby=+GJ,-TBMJ&limit=2")  // '+' arrives as a space
            #expect(try plus.ids() == ["P09", "P08"])
            let encodedPlus = try await client.get("/collections/parcels/items?sortby=%2BGJ,-BSM&limit=2")
            #expect(try encodedPlus.ids() == ["T", "P09"])
            let r41274 = try await client.get("/collections/parcels/items?sortby=NOPE")
            #expect(r41274.status == .badRequest)
            let r57730 = try await client.get("/collections/parcels/items?sortby=geometry")
            #expect(r57730.status == .badRequest)
        }
    }

    func matched(_ client: some TestClientProtocol, _ filter: String, extra: String = "") async throws -> [String] {
        let r = try await client.get("/collections/parcels/items?limit=1000&filter-lang=cql2-text&filter=\(q(filter))\(extra)")
        #expect(r.status == .ok, "\(filter): \(r.text.prefix(300))")
        return try r.ids().sorted()
    }

    @Test func cql2FiltersSelectExactly() async throws {
        try await fixtures.app().test(.router) { client in
            let v15628 = try await matched(client, "DLBM = '0102' AND GJ = 4")
            #expect(v15628 == ["P41", "P44", "P47"])
            let v71292 = try await matched(client, "GJ = 0 AND (TBMJ < 200 OR TBMJ >= 1000)")
            #expect(v71292 == ["P00", "P09", "T"].sorted())
            let v40515 = try await matched(client, "NOT (GJ <> 9) AND TBMJ > 950")
            #expect(v40515 == ["P99"])
            let v6998 = try await matched(client, "BSM LIKE 'P9%' AND TBMJ <= 309")
            #expect(v6998 == ["P90", "P91", "P92"])
            #expect(try await matched(client, "BSM LIKE 'p9%'") == [])  // case-sensitive, as CQL2 says
            let v33523 = try await matched(client, "BSM LIKE 'P_5' AND GJ BETWEEN 7 AND 8")
            #expect(v33523 == ["P75", "P85"])
            let v82401 = try await matched(client, "GJ NOT BETWEEN 1 AND 9 AND DLBM IN ('0103')")
            #expect(v82401 == ["P02", "P05", "P08"])
            let v70916 = try await matched(client, "BSM IN ('P00', 'T', 'nope')")
            #expect(v70916 == ["P00", "T"])
            let v53131 = try await matched(client, "DLMC IS NULL")
            #expect(v53131 == ["P99"])
            let v98109 = try await matched(client, "DLMC IS NOT NULL AND GJ = 9 AND TBMJ > 1000")
            #expect(v98109.isEmpty)
            let v86293 = try await matched(client, "DLMC IS NOT NULL AND GJ = 9 AND TBMJ > 900")
            #expect(v86293 == ["P98"])
            let v28545 = try await matched(client, "DLMC = 'it''s \"quoted\"'")
            #expect(v28545 == ["T"])
            let v30967 = try await matched(client, "TRUE AND BSM = 'P00'")
            #expect(v30967 == ["P00"])
            let v51947 = try await matched(client, "\"BSM\" = 'P11'")
            #expect(v51947 == ["P11"])
        }
    }
}
