import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import LayerStore
import Testing
import VectorIO

@testable import OneMapServer

/// A store with one farmland parcel P at [120.000, 120.001] × [28.000, 28.001].
func farmlandStore() throws -> Store {
    let dir = NSTemporaryDirectory() + "onemap-api-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/farmland.geojson"
    let w = try VectorWriter(
        path: path, format: .geoJSON, layerName: "farmland", crs: "EPSG:4490", geometryType: "Polygon",
        fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text)])
    try w.write(
        geometry: .polygon(
            Polygon([
                [
                    Coordinate(120, 28), Coordinate(120.001, 28), Coordinate(120.001, 28.001),
                    Coordinate(120, 28.001), Coordinate(120, 28)
                ]
            ])), attributes: [.text("P"), .text("水田")])
    try w.close()
    let store = try Store(path: dir + "/onemap.sqlite")
    _ = try LayerImporter(store: store).load(
        LayerSpec(
            name: "farmland", title: "永久基本农田", kind: .farmland, source: path,
            idField: "BSM", rule: Rule(severity: .forbidden)))
    return store
}

let siteOverP =
    #"{"type": "Polygon", "coordinates": [[[119.9995, 27.9995], [120.0015, 27.9995], [120.0015, 28.0015], [119.9995, 28.0015], [119.9995, 27.9995]]]}"#

struct CheckAPITests {
    func app(open: Bool = true, limits: ServerConfiguration.Limits = .init()) throws -> some ApplicationProtocol {
        buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: open, limits: limits))
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    @Test func theWrapperCRSIsTheGeometrysAndConflictsAreRefused() async throws {
        // The same site as siteOverP, in Gauss–Krüger zone 40 metres (EPSG:4528, zone prefix in the easting).
        let gk = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4528")
        var ring = [
            Coordinate(119.9995, 27.9995), Coordinate(120.0015, 27.9995), Coordinate(120.0015, 28.0015),
            Coordinate(119.9995, 28.0015), Coordinate(119.9995, 27.9995)
        ]
        try gk.transform(&ring)
        let coords = ring.map { "[\($0.x), \($0.y)]" }.joined(separator: ", ")
        let projected = #"{"type": "Polygon", "coordinates": [[\#(coords)]]}"#
        @Sendable func overlap(_ result: [String: Any]) throws -> Double {
            let layers = try #require(result["layers"] as? [[String: Any]])
            return try #require(layers.first?["overlapAreaM2"] as? Double)
        }
        try await app().test(.router) { client in
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
            }
            let lonLat = try await post(#"{"geometry": \#(siteOverP)}"#)
            #expect(lonLat.status == .created)
            let expected = try overlap(try json(lonLat.body))
            #expect(expected > 10_000)
            for crs in [#""EPSG:4528""#, #"{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4528"}}"#] {
                let r = try await post(#"{"crs": \#(crs), "geometry": \#(projected)}"#)
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let got = try overlap(try json(r.body))
                #expect(abs(got - expected) / expected < 1e-6, "\(got) vs \(expected)")
            }
            // Without the crs the metres would be read as degrees: refused as no site, not checked somewhere else.
            let degrees = try await post(#"{"geometry": \#(projected)}"#)
            #expect(degrees.status == .unprocessableContent, "\(degrees.status) \(String(buffer: degrees.body).prefix(300))")
            let clash = try await post(
                #"{"crs": "EPSG:4549", "geometry": {"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:4528"}}, "coordinates": [[\#(coords)]]}}"#
            )
            #expect(clash.status == .badRequest && String(buffer: clash.body).contains("conflicting crs"))
            #expect(try await post(#"{"crs": 4528, "geometry": \#(projected)}"#).status == .badRequest)
            let txt = try await post(#"{"crs": "EPSG:4528", "txt": "[地块坐标]"}"#)
            #expect(txt.status == .badRequest && String(buffer: txt.body).contains("does not apply to 'txt'"))
        }
    }

    /// A rule the current version cannot satisfy fails the check with the reason, and stores
    /// nothing: an approval system must never read a pass into it.
    @Test func aRuleThatCannotBeAppliedFailsTheCheck() async throws {
        let store = try farmlandStore()
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE onemap_layer_versions
                    SET spec = json_set(spec, '$.rule.byField', json('{"field": "GNFQ", "values": {"核心区": "forbidden"}}'))
                    """)
        }
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let r = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
            #expect(r.status == .internalServerError)
            let body = try json(r.body)
            #expect(body["code"] as? String == "ServerError" && body["status"] as? Int == 500)
            #expect((body["detail"] as? String)?.contains("layer 'farmland' version 1") == true, "\(body)")
        }
        #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM onemap_checks") } == 0)
    }

    /// A raw GeoJSON Feature names its project in its properties, as planners' files do:
    /// kept in the answer and the record, whichever reader takes the body (the fast one, or
    /// the general one for a `crs` or a code given as a number); the wrapper's keys win.
    @Test func aFeatureNamesItsProjectInItsProperties() async throws {
        let cases: [(body: String, path: String, code: String?, name: String?)] = [
            (
                #"{"type": "Feature", "properties": {"projectCode": "2026-331102-07", "projectName": "某物流园"}, "geometry": \#(siteOverP)}"#,
                "/v1/checks", "2026-331102-07", "某物流园"
            ),
            (
                #"{"type": "Feature", "properties": {"项目代码": "2026-331102-08", "项目名称": "某园区", "DKBH": 3}, "geometry": \#(siteOverP)}"#,
                "/v1/checks", "2026-331102-08", "某园区"
            ),
            (
                #"{"type": "Feature", "properties": {"projectCode": 3311020009}, "geometry": \#(siteOverP)}"#,
                "/v1/checks", "3311020009", nil
            ),
            (
                #"{"type": "Feature", "properties": {"projectCode": "2026-331102-10"}, "geometry": \#(siteOverP)}"#,
                "/v1/checks?crs=EPSG:4490", "2026-331102-10", nil
            ),
            (
                #"{"projectCode": "W-1", "feature": {"type": "Feature", "properties": {"projectCode": "F-1", "projectName": "F"}, "geometry": \#(siteOverP)}}"#,
                "/v1/checks", "W-1", "F"
            ),
            (#"{"type": "Feature", "properties": null, "geometry": \#(siteOverP)}"#, "/v1/checks", nil, nil)
        ]
        try await app().test(.router) { client in
            for c in cases {
                let created = try await client.execute(
                    uri: c.path, method: .post, headers: [.contentType: "application/geo+json"],
                    body: ByteBuffer(string: c.body))
                #expect(created.status == .created, "\(c.body)")
                let result = try json(created.body)
                #expect(result["projectCode"] as? String == c.code, "\(c.body)")
                #expect(result["projectName"] as? String == c.name, "\(c.body)")
                let id = try #require(result["id"] as? String)
                let fetched = try json(try await client.execute(uri: "/v1/checks/\(id)", method: .get).body)
                #expect(fetched["projectCode"] as? String == c.code)
            }
        }
    }

    @Test func postThenGetIsByteIdentical() async throws {
        try await app().test(.router) { client in
            let body = #"{"projectCode": "2026-331102-01", "projectName": "某物流园", "geometry": \#(siteOverP)}"#
            let created = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: body))
            #expect(created.status == .created)
            let result = try json(created.body)
            #expect(result["verdict"] as? String == "forbidden")
            #expect(result["projectCode"] as? String == "2026-331102-01")
            let id = try #require(result["id"] as? String)
            #expect(created.headers[.location] == "/v1/checks/\(id)")
            let layers = try #require(result["layers"] as? [[String: Any]])
            let features = try #require(layers.first?["features"] as? [[String: Any]])
            #expect(features.first?["id"] as? String == "P")
            #expect((features.first?["properties"] as? [String: Any])?["DLMC"] as? String == "水田")

            let fetched = try await client.execute(uri: "/v1/checks/\(id)", method: .get)
            #expect(fetched.status == .ok)
            #expect(Data(buffer: fetched.body) == Data(buffer: created.body))

            let list = try await client.execute(uri: "/v1/checks?projectCode=2026-331102-01", method: .get)
            let items = try #require(try json(list.body)["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [id])

            let report = try await client.execute(uri: "/v1/checks/\(id)/report", method: .get)
            #expect(report.status == .ok)
            let html = String(buffer: report.body)
            #expect(html.contains("合规性分析报告") && html.contains("<svg") && html.contains("永久基本农田") && html.contains("禁止"))
        }
    }

    @Test func rawGeoJSONAndTXTAreAccepted() async throws {
        try await app().test(.router) { client in
            let raw = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/geo+json"],
                body: ByteBuffer(string: siteOverP))
            #expect(raw.status == .created)
            let txt = """
                [属性描述]
                坐标系=2000国家大地坐标系
                几度分带=3
                带号=40
                [地块坐标]
                5,1.2031,1,示例地块,面,,工业用地,,@
                J1,1,3150012.345,40491234.567
                J2,1,3150012.345,40491334.567
                J3,1,3150132.657,40491334.567
                J4,1,3150132.657,40491234.567
                J1,1,3150012.345,40491234.567
                """
            let t = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: txt))
            #expect(t.status == .created)
            #expect(try json(t.body)["verdict"] as? String == "clear")
        }
    }

    func error(_ client: some TestClientProtocol, _ body: String, uri: String = "/v1/checks") async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        let r = try await client.execute(
            uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
        return (r.status, try json(r.body))
    }

    @Test func badInputGetsAPointedError() async throws {
        try await app(limits: .init(maxBodyBytes: 4096, maxSiteVertices: 50)).test(.router) { client in
            var (status, body) = try await error(
                client, #"{"geometry": {"type": "Polygon", "coordinates": [[[120, 28], [120.1, 28],, ]]}}"#)
            #expect(status == .badRequest && (body["detail"] as? String)?.contains("line 1") == true)
            (status, body) = try await error(
                client, #"{"geometry": {"type": "Polygon", "coordinates": [[[120, 28], [120.1, 28], [120.1, 28.1], [120, 28.2]]]}}"#)
            #expect(
                status == .unprocessableContent
                    && (body["detail"] as? String)?.contains("geometry: coordinates[0]: the ring is not closed") == true)
            (status, body) = try await error(client, #"{"geometry": \#(siteOverP), "colour": "red"}"#)
            #expect(status == .badRequest && (body["detail"] as? String)?.contains("colour") == true)
            (status, body) = try await error(client, siteOverP, uri: "/v1/checks?layers=forest")
            #expect(
                status == .notFound && (body["code"] as? String) == "NotFound" && (body["detail"] as? String)?.contains("forest") == true)
            (status, body) = try await error(
                client, #"{"type": "Polygon", "coordinates": [[[120, 28], [200, 28], [120.1, 28.1], [120, 28]]]}"#)
            #expect(status == .unprocessableContent && (body["detail"] as? String)?.contains("point 2") == true)
            let ring = (0...60).map { i -> String in
                let a = Double(i % 60) / 60 * 2 * Double.pi
                return "[\(120 + 0.001 * cos(a)), \(28 + 0.001 * sin(a))]"
            }.joined(separator: ",")
            (status, _) = try await error(client, #"{"type": "Polygon", "coordinates": [[\#(ring)]]}"#)
            #expect(status == .contentTooLarge)
            (status, _) = try await error(client, String(repeating: " ", count: 5000) + siteOverP)
            #expect(status == .contentTooLarge)
            // Nothing was stored by any of these.
            let list = try await client.execute(uri: "/v1/checks", method: .get)
            #expect(try json(list.body)["total"] as? Int == 0)
            let missing = try await client.execute(uri: "/v1/checks/chk_nope", method: .get)
            #expect(missing.status == .notFound)
        }
    }

    /// As the feature pages: a limit above --max-page is served as --max-page, the answer says
    /// the limit it served, and `next` goes on to every record once; a limit below 1 is a 400.
    @Test func recordListCapsTheLimitAndPagesOn() async throws {
        try await app(limits: .init(maxPageSize: 2)).test(.router) { client in
            for _ in 0..<3 {
                let r = try await client.execute(
                    uri: "/v1/checks", method: .post, body: ByteBuffer(string: #"{"projectCode": "丽水 01", "geometry": \#(siteOverP)}"#))
                #expect(r.status == .created)
            }
            _ = try await client.execute(uri: "/v1/checks", method: .post, body: ByteBuffer(string: siteOverP))
            var next: String? = "/v1/checks?limit=50000&projectCode=%E4%B8%BD%E6%B0%B4%2001"
            var ids: [String] = [], sizes: [Int] = []
            while let uri = next, sizes.count < 5 {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .ok, "\(uri)")
                let page = try json(r.body)
                let items = page["items"] as? [[String: Any]] ?? []
                ids += items.compactMap { $0["id"] as? String }
                sizes.append(items.count)
                #expect(page["limit"] as? Int == 2, "\(uri)")
                next = (page["links"] as? [[String: String]])?.first { $0["rel"] == "next" }?["href"]
                if let n = next { #expect(n.allSatisfy(\.isASCII) && n.contains("projectCode=%E4%B8%BD%E6%B0%B4%2001"), "\(n)") }
            }
            #expect(sizes == [2, 1] && Set(ids).count == 3, "\(sizes)")
            let zero = try await client.execute(uri: "/v1/checks?limit=0", method: .get)
            #expect(zero.status == .badRequest && zero.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func closedServerNeedsAKey() async throws {
        try await app(open: false).test(.router) { client in
            let (status, body) = try await error(client, siteOverP)
            #expect(status == .unauthorized && body["code"] as? String == "Unauthorized")
            #expect((body["detail"] as? String)?.contains("needs a planner key") == true, "\(body)")
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }
}

struct RerunTests {
    @Test func rerunAfterAReloadSaysWhatChanged() async throws {
        let store = try farmlandStore()
        let app = buildApplication(store: store, configuration: ServerConfiguration(open: true))
        try await app.test(.router) { client in
            let created = try await client.execute(
                uri: "/v1/checks", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: siteOverP))
            let id = try #require((try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any])?["id"] as? String)
            // A new farmland version without parcel P.
            let dir = NSTemporaryDirectory() + "onemap-rerun-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let w = try VectorWriter(
                path: dir + "/f.geojson", format: .geoJSON, layerName: "f", crs: "EPSG:4490", geometryType: "Polygon",
                fields: [FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "DLMC", type: .text)])
            try w.write(
                geometry: .polygon(
                    Polygon([[Coordinate(121, 29), Coordinate(121.001, 29), Coordinate(121.001, 29.001), Coordinate(121, 29)]])),
                attributes: [.text("Q"), .text("旱地")])
            try w.close()
            _ = try LayerImporter(store: store).load(
                LayerSpec(
                    name: "farmland", title: "永久基本农田", kind: .farmland, source: dir + "/f.geojson",
                    idField: "BSM", rule: Rule(severity: .forbidden)), label: "2027年度")
            let rerun = try await client.execute(uri: "/v1/checks/\(id)/rerun", method: .post)
            #expect(rerun.status == .created)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: rerun.body)) as? [String: Any])
            #expect(body["verdict"] as? String == "clear")
            let changes = try #require(body["changes"] as? [String: Any])
            #expect(changes["verdictBefore"] as? String == "forbidden" && changes["verdictAfter"] as? String == "clear")
            #expect(((changes["versions"] as? [String: Any])?["farmland"] as? [String: Any])?["to"] as? String == "2027年度")
            #expect(((changes["layers"] as? [[String: Any]])?.first?["removed"] as? [String]) == ["P"])
            // The original record is unchanged.
            let again = try await client.execute(uri: "/v1/checks/\(id)", method: .get)
            #expect(Data(buffer: again.body) == Data(buffer: created.body))
        }
    }
}
