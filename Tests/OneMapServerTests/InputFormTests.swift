import Conflicts
import Foundation
import GeoCore
import Hummingbird
import HummingbirdTesting
import OneMapServer
import Testing

/// What inputs may say: a site's CRS is an EPSG code (in its usual spellings) and never a PROJ
/// string; X-Forwarded-* is believed only with --trust-proxy; one vertex limit everywhere.
struct InputFormTests {
    /// siteOverP in Gauss–Krüger zone 40: with the zone prefix (EPSG:4528) and without (4549).
    static func projected(_ crs: String) throws -> String {
        var ring = [
            Coordinate(119.9995, 27.9995), Coordinate(120.0015, 27.9995), Coordinate(120.0015, 28.0015),
            Coordinate(119.9995, 28.0015), Coordinate(119.9995, 27.9995)
        ]
        try CoordinateTransform(from: "EPSG:4490", to: crs).transform(&ring)
        return #"{"type": "Polygon", "coordinates": [[\#(ring.map { "[\($0.x), \($0.y)]" }.joined(separator: ", "))]]}"#
    }

    @Test func siteCRSsAreEPSGCodesInTheirUsualForms() throws {
        for (written, code) in [
            ("EPSG:4528", "EPSG:4528"), ("epsg:4528", "EPSG:4528"), ("urn:ogc:def:crs:EPSG::4528", "EPSG:4528"),
            ("urn:ogc:def:crs:EPSG:9.8.15:4528", "EPSG:4528"), ("http://www.opengis.net/def/crs/EPSG/0/4549", "EPSG:4549"),
            ("OGC:CRS84", "OGC:CRS84"), ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84"),
            ("CGCS2000 / 3-degree Gauss-Kruger zone 40", "EPSG:4528"), ("CGCS2000 / 3-degree Gauss-Kruger CM 120E", "EPSG:4549"),
            ("CGCS2000_3_Degree_GK_Zone_40", nil), ("CGCS2000 / 3-degree Gauss-Kruger zone 25", "EPSG:4513")
        ] as [(String, String?)] {
            if let code {
                #expect(try SiteCRS.code(written) == code, "\(written)")
            } else {
                #expect(throws: SiteError.self, "\(written)") { try SiteCRS.code(written) }
            }
        }
        for hostile in [
            "+init=epsg:4528", "+proj=longlat +ellps=GRS80 +no_defs", "+proj=pipeline +step +init=/etc/passwd",
            #"GEOGCRS["x",DATUM["d",ELLIPSOID["e",6378137,298.257]],CS[ellipsoidal,2],AXIS["lat",north],AXIS["lon",east]]"#,
            "EPSG:", "EPSG:4528 +towgs84=0,0,0", "EPSG:-1", "file:///etc/passwd", ""
        ] {
            do {
                _ = try SiteReader.wkt("POLYGON((120 28, 120.001 28, 120.001 28.001, 120 28))", crs: hostile)
                Issue.record("'\(hostile)' was taken as a CRS")
            } catch let e as SiteError {
                #expect(e.kind == .invalid && e.message.contains("EPSG:4528, urn:ogc:def:crs:EPSG::4528"), "\(e.message)")
            }
        }
    }

    @Test func theCheckRouteTakesEPSGCodesAndRefusesPROJStrings() async throws {
        let app = buildApplication(store: try farmlandStore(), configuration: ServerConfiguration(open: true))
        let zone = try Self.projected("EPSG:4528"), central = try Self.projected("EPSG:4549")
        try await app.test(.router) { client in
            func post(_ body: String, uri: String = "/v1/checks") async throws -> TestResponse {
                try await client.execute(
                    uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
            }
            for (crs, geometry) in [
                ("http://www.opengis.net/def/crs/EPSG/0/4528", zone), ("CGCS2000 / 3-degree Gauss-Kruger CM 120E", central)
            ] {
                let r = try await post(#"{"crs": "\#(crs)", "geometry": \#(geometry)}"#)
                #expect(r.status == .created, "\(crs): \(String(buffer: r.body).prefix(300))")
            }
            let lonLat =
                #"{"type": "Polygon", "coordinates": [[[119.9995, 27.9995], [120.0015, 27.9995], [120.0015, 28.0015], [119.9995, 28.0015], [119.9995, 27.9995]]]}"#
            for crs in ["+proj=longlat +ellps=GRS80 +no_defs", "+init=epsg:4490"] {
                let wrapped = try await post(#"{"crs": "\#(crs)", "geometry": \#(lonLat)}"#)
                #expect(wrapped.status == .unprocessableContent, "\(crs): \(wrapped.status)")
                #expect(String(buffer: wrapped.body).contains("urn:ogc:def:crs:EPSG::4528"))
                let member = try await post(
                    #"{"type": "Polygon", "crs": {"type": "name", "properties": {"name": "\#(crs)"}}, "coordinates": [[[119.9995, 27.9995], [120.0015, 27.9995], [120.0015, 28.0015], [119.9995, 28.0015], [119.9995, 27.9995]]]}"#
                )
                #expect(member.status == .unprocessableContent, "\(crs) as a GeoJSON crs member: \(member.status)")
                let query = crs.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let wkt = try await client.execute(
                    uri: "/v1/checks?crs=\(query)", method: .post, headers: [.contentType: "text/plain"],
                    body: ByteBuffer(string: "POLYGON((119.9995 27.9995, 120.0015 27.9995, 120.0015 28.0015, 119.9995 27.9995))"))
                #expect(wkt.status == .unprocessableContent, "?crs=\(crs): \(wkt.status)")
            }
        }
    }

    @Test func forwardedHeadersCountOnlyBehindATrustedProxy() async throws {
        let store = try farmlandStore()
        let forwarded: HTTPFields = [
            HTTPFields.Element.Name("X-Forwarded-Host")!: "evil.example", HTTPFields.Element.Name("X-Forwarded-Proto")!: "https"
        ]
        for trust in [false, true] {
            let app = buildApplication(store: store, configuration: ServerConfiguration(trustProxy: trust))
            try await app.test(.router) { client in
                let r = try await client.execute(uri: "/collections/farmland", method: .get, headers: forwarded)
                let text = String(buffer: r.body)
                #expect(r.status == .ok)
                #expect(text.contains("https://evil.example/collections/farmland") == trust, "trust \(trust): \(text.prefix(400))")
                #expect(text.contains("http://localhost/collections/farmland") != trust)
                let style = String(buffer: try await client.execute(uri: "/styles/onemap.json", method: .get, headers: forwarded).body)
                #expect(style.contains("https://evil.example/tiles/onemap.json") == trust, "trust \(trust): \(style.prefix(300))")
                // TileJSON's tile URLs, which a map follows, likewise.
                let tileJSON = String(buffer: try await client.execute(uri: "/tiles/farmland.json", method: .get, headers: forwarded).body)
                #expect(tileJSON.contains("https://evil.example/tiles/farmland@1/") == trust, "trust \(trust): \(tileJSON.prefix(300))")
                #expect(tileJSON.contains("https://") == trust, "trust \(trust): \(tileJSON.prefix(300))")
            }
        }
    }

    /// The command line (`onemap check`) and the server take the same default.
    @Test func oneVertexLimitForTheCommandLineAndTheServer() {
        #expect(SiteLimits().maxVertices == ServerConfiguration.Limits().maxSiteVertices)
        #expect(SiteLimits.defaultMaxVertices == 200_000)
    }
}
