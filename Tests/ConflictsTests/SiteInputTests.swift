import Foundation
import GeoCore
import Testing
import VectorIO

@testable import Conflicts

struct SiteInputTests {
    static let header = """
        [属性描述]
        格式版本号=1.01版本
        数据产生单位=某勘测院
        数据产生日期=2026-5-20
        坐标系=2000国家大地坐标系
        几度分带=3
        投影类型=高斯克吕格
        计量单位=米
        带号=40
        精度=0.001
        转换参数=,,,,,,
        [地块坐标]
        """

    /// The issue's example parcel: a 100 m × 120.312 m rectangle, 1.2031 ha.
    static let example =
        header + """

            5,1.2031,1,示例地块,面,,工业用地,,@
            J1,1,3150012.345,40491234.567
            J2,1,3150012.345,40491334.567
            J3,1,3150132.657,40491334.567
            J4,1,3150132.657,40491234.567
            J1,1,3150012.345,40491234.567
            """

    @Test func readsTheExampleParcel() throws {
        let site = try SurveyTXT.read(text: Self.example)
        #expect(site.parcels.count == 1)
        #expect(site.parcels[0].name == "示例地块" && site.parcels[0].use == "工业用地")
        // 100 m × 120.312 m on the GK plane, within the zone's scale error of the ellipsoid.
        #expect(abs(site.areaM2 - 12_031.2) / 12_031.2 < 0.001)
        #expect(site.warnings.isEmpty)
        let b = site.bbox
        #expect(b.minX > 119.9 && b.maxX < 120 && b.minY > 28.4 && b.maxY < 28.5)
    }

    @Test func gbkWithSeveralParcelsAndHoles() throws {
        let text =
            Self.header + """

                10,0.9600,A,甲地块,面,,住宅用地,,@
                J1,1,3150000.000,40490000.000
                J2,1,3150000.000,40490100.000
                J3,1,3150100.000,40490100.000
                J4,1,3150100.000,40490000.000
                J1,1,3150000.000,40490000.000
                J5,2,3150040.000,40490040.000
                J6,2,3150060.000,40490040.000
                J7,2,3150060.000,40490060.000
                J8,2,3150040.000,40490060.000
                J5,2,3150040.000,40490040.000
                5,0.5000,B,乙地块,面,,商服用地,,@
                J1,1,3150200.000,40490000.000
                J2,1,3150200.000,40490050.000
                J3,1,3150300.000,40490050.000
                J4,1,3150300.000,40490000.000
                J1,1,3150200.000,40490000.000
                """
        let gbk = try #require(TextEncoding.encode(text.replacingOccurrences(of: "\n", with: "\r\n"), to: "GBK"))
        #expect(String(bytes: gbk, encoding: .utf8) == nil, "the fixture really is GBK")
        let site = try SurveyTXT.read(Data(gbk))
        #expect(site.parcels.map(\.name) == ["甲地块", "乙地块"])
        #expect(site.geometry.polygons.count == 2)
        #expect(site.geometry.polygons.contains { $0.rings.count == 2 }, "the hole is kept")
        #expect(abs(site.areaM2 - 14_600) / 14_600 < 0.001)  // 100×100 − 20×20 + 50×100
        #expect(site.warnings.isEmpty, "declared areas match: \(site.warnings)")
    }

    /// 6-degree zones occur too: zone 20 (central meridian 117°E), read from the Y prefix alone.
    @Test func sixDegreeZoneFromThePrefix() throws {
        let toZone20 = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4498")
        let corners = try [Coordinate(119.50, 28.20), Coordinate(119.501, 28.20), Coordinate(119.501, 28.201), Coordinate(119.50, 28.201)]
            .map { try toZone20.transform($0) }
        #expect(corners[0].x > 20_000_000 && corners[0].x < 21_000_000)
        var lines = ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=6", "[地块坐标]", "5,1.0,1,六度带地块,面,,工业用地,,@"]
        for (i, c) in (corners + [corners[0]]).enumerated() {
            lines.append("J\(i % 4 + 1),1,\(String(format: "%.3f", c.y)),\(String(format: "%.3f", c.x))")
        }
        let site = try SurveyTXT.read(text: lines.joined(separator: "\n"))
        #expect(abs(site.bbox.minX - 119.50) < 1e-6 && abs(site.bbox.minY - 28.20) < 1e-6)
        #expect(site.warnings.contains { $0.contains("declared area") })  // 1.0 ha declared, ~1.09 ha real
    }

    @Test func declaredAreaSlipIsWarned() throws {
        let site = try SurveyTXT.read(text: Self.example.replacingOccurrences(of: "5,1.2031,", with: "5,1.3031,"))
        #expect(site.warnings.contains { $0.contains("1.3031") && $0.contains("%") })
    }

    func error(_ text: String) -> SiteError? {
        do { _ = try SurveyTXT.read(text: text); return nil } catch let e as SiteError { return e } catch { return nil }
    }

    @Test func badFilesSayWhere() {
        let zone = error(Self.example.replacingOccurrences(of: "带号=40", with: "带号=39"))
        #expect(zone?.message.contains("带号=39") == true && zone?.message.contains("40") == true)
        let unclosed = error(Self.example.replacingOccurrences(of: "J1,1,3150012.345,40491234.567\n" + "", with: "X").appending(""))
        #expect(unclosed != nil)
        let open = error(
            Self.header + "\n4,1,1,a,面,,x,,@\nJ1,1,3150000,40490000\nJ2,1,3150000,40490100\nJ3,1,3150100,40490100\nJ4,1,3150100,40490000\n")
        #expect(open?.message.contains("not closed") == true && open?.message.contains("line 14") == true)
        let short = error(Self.header + "\n3,1,1,a,面,,x,,@\nJ1,1,3150000,40490000\nJ2,1,3150000,40490100\nJ1,1,3150000,40490000\n")
        #expect(short?.message.contains("at least 4") == true)
        let nan = error(Self.header + "\n5,1,1,a,面,,x,,@\nJ1,1,NaN,40490000\n")
        #expect(nan?.message.contains("line 14") == true)
        let noParcel = error(Self.header)
        #expect(noParcel?.message.contains("no parcel") == true)
    }

    @Test func geoJSONErrorsPointAtTheProblem() {
        func error(_ json: String) -> String {
            do { _ = try SiteReader.geoJSON(Data(json.utf8)); return "" } catch { return "\(error)" }
        }
        #expect(error(#"{"type": "Polygon", "coordinates": [[[120, 28], [120.1, 28], [120.1, 28.1], [120, 28]]}"#).contains("line 1"))
        #expect(
            error(#"{"type": "Polygon", "coordinates": [[[120, 28], [120.1, 28], [120.1, 28.1], [120, 28.2]]]}"#).contains(
                "coordinates[0]: the ring is not closed"))
        #expect(error(#"{"type": "Polygon", "coordinates": [[[120, 28], [120.1, 28], [120, 28]]]}"#).contains("at least 4"))
        #expect(error(#"{"type": "Polygon", "coordinates": [[[200, 28], [200.1, 28], [200.1, 28.1], [200, 28]]]}"#).contains("point 1"))
        #expect(
            error(
                #"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[120, 28], [121, 28]]}}]}"#
            ).contains("features[0].geometry"))
        #expect(error(#"{"type": "Polygon", "coordinates": []}"#).contains("at least one ring"))
        #expect(
            error(#"{"type": "Polygon", "coordinates": [[[120, "28"], [120.1, 28], [120.1, 28.1], [120, 28]]]}"#).contains(
                "coordinates[0][0]"))
    }

    @Test func geoJSONFeatureCollectionIsOneSiteAndLegacyCRSIsHonoured() throws {
        let fc = #"""
            {"type": "FeatureCollection",
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4528"}},
             "features": [
              {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[40491234.567, 3150012.345], [40491334.567, 3150012.345], [40491334.567, 3150132.657], [40491234.567, 3150132.657], [40491234.567, 3150012.345]]]}},
              {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[40491334.567, 3150012.345], [40491434.567, 3150012.345], [40491434.567, 3150132.657], [40491334.567, 3150132.657], [40491334.567, 3150012.345]]]}}
             ]}
            """#
        let site = try SiteReader.geoJSON(Data(fc.utf8))
        #expect(site.geometry.polygons.count == 1, "adjacent features merge into one site")
        #expect(abs(site.areaM2 - 24_062.4) / 24_062.4 < 0.001)
    }

    @Test func wktNeedsItsCRS() throws {
        let site = try SiteReader.wkt(
            "POLYGON((40491234.567 3150012.345, 40491334.567 3150012.345, 40491334.567 3150132.657, 40491234.567 3150132.657, 40491234.567 3150012.345))",
            crs: "EPSG:4528")
        #expect(abs(site.areaM2 - 12_031.2) / 12_031.2 < 0.001)
        #expect(throws: SiteError.self) { try SiteReader.wkt("POLYGON((0 0, 1 0", crs: nil) }
    }

    @Test func vertexLimit() {
        var ring = (0..<2000).map { i -> Coordinate in
            let a = Double(i) / 2000 * 2 * .pi
            return Coordinate(120 + 0.01 * cos(a), 28 + 0.01 * sin(a))
        }
        ring.append(ring[0])
        #expect(throws: SiteError.self) {
            try Site.make(polygons: [(Polygon([ring]), "p")], crs: nil, limits: SiteLimits(maxVertices: 1000))
        }
    }
}
