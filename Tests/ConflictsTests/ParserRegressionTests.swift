import Foundation
import GeoCore
import Testing

@testable import Conflicts

/// Inputs the parser fuzzing (SiteParserFuzz) found crashing or hanging a parser, each kept as a
/// test of its own once fixed.
struct ParserRegressionTests {
    func siteError(_ body: () throws -> Site) -> SiteError? {
        do { _ = try body(); return nil } catch let e as SiteError { return e } catch { return nil }
    }

    /// A Y of 1e300 trapped converting its zone prefix (Y / 1e6) to an Int; now it is an error
    /// naming the line and the point.
    @Test(arguments: ["4.5e300", "1e19", "9.3e18", "100000000", "-40491234.5"])
    func surveyTXTHugeEastingIsAnErrorNotATrap(_ y: String) {
        let text = """
            [属性描述]
            带号=40
            [地块坐标]
            5,1.2031,1,示例地块,面,,工业用地,,@
            J1,1,3150012.345,\(y)
            J2,1,3150012.345,40491334.567
            J3,1,3150132.657,40491334.567
            J1,1,3150012.345,\(y)
            """
        let e = siteError { try SurveyTXT.read(text: text) }
        #expect(e?.kind == .invalid)
        #expect(e?.message.contains("line 5") == true && e?.message.contains("J1") == true, "\(e?.message ?? "no error")")
    }

    @Test func surveyTXTHugeNorthingIsAnError() {
        let text = "[属性描述]\n带号=40\n[地块坐标]\n4,1,1,a,面,,x,,@\nJ1,1,-3.2e15,40491234.5\n"
        let e = siteError { try SurveyTXT.read(text: text) }
        #expect(e?.message.contains("line 5") == true, "\(e?.message ?? "no error")")
    }
}

extension ParserRegressionTests {
    /// A parcel header with no point after it, first in the file, trapped reading the zone from
    /// "the first point"; now it is an error naming the parcel and its line.
    @Test func surveyTXTParcelWithoutPointsIsAnError() {
        let text = "[属性描述]\n带号=40\n[地块坐标]\n5,1.2,A,甲,面,,x,,@\n5,1.2,B,乙,面,,x,,@\nJ1,1,3150000,40490000\n"
        let e = siteError { try SurveyTXT.read(text: text) }
        #expect(e?.message.contains("parcel A (line 4)") == true && e?.message.contains("no points") == true, "\(e?.message ?? "no error")")
    }
}

extension ParserRegressionTests {
    /// GEOMETRYCOLLECTION nested 10,000 deep overflowed the stack in GEOS's recursive WKT reader
    /// (a crash of the server from one text/plain POST); now the nesting is refused before GEOS.
    @Test(arguments: [20, 10_000, 100_000])
    func wktDeepNestingIsAnErrorNotAStackOverflow(_ depth: Int) {
        let text =
            String(repeating: "GEOMETRYCOLLECTION(", count: depth) + "POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))"
            + String(repeating: ")", count: depth)
        let e = siteError { try SiteReader.wkt(text, crs: nil) }
        #expect(
            e?.kind == .malformed && e?.message.contains("deeper than 16 levels at character 323") == true, "\(e?.message ?? "no error")")
        let sniffed = siteError { try SiteReader.read(Data(text.utf8)).0 }
        #expect(sniffed?.message == e?.message)
    }

    @Test func wktNestingThatSitesUseStillReads() throws {
        let gc = "GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(MULTIPOLYGON(((120 28, 120.01 28, 120.01 28.01, 120 28)))))"
        #expect(try SiteReader.wkt(gc, crs: nil).areaM2 > 0)
    }

    /// GEOS reads a C string: what followed a NUL was silently ignored.
    @Test func wktWithANulIsAnError() {
        let e = siteError { try SiteReader.wkt("POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))\u{0}POINT(1 2)", crs: nil) }
        #expect(e?.message.contains("unexpected character a NUL at character 51") == true, "\(e?.message ?? "no error")")
    }
}

extension ParserRegressionTests {
    /// GEOS's WKT messages said what it expected but never where; every WKT error now names the
    /// character (the fuzzing asks each error to say where).
    @Test(arguments: [
        ("POLYGON((120 28, 120.01 28, 120.01 x, 120 28))", "at character 36: expected a number, found 'x'"),
        (
            "POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28)",
            "at character 50: expected ',' or ')' closing the polygon, found the end of the text"
        ),
        ("POLYGON((120 28, 120.01 28, 120 28))", "WKT at character 9: the ring has 3 positions"),
        ("POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28.5))", "WKT at character 9: the ring is not closed"),
        (
            "MULTIPOLYGON(((120 28, 120.01 28, 120.01 28.01, 120 28)), ((1e999 28, 1 2, 3 4, 1e999 28)))",
            "at character 61: 1e999 is too large a number"
        ),
        ("POLYGONE((120 28, 120.01 28, 120.01 28.01, 120 28))", "at character 1: unknown geometry type 'POLYGONE'"),
        ("LINESTRING(120 28, 121 29)", "WKT at character 1: a site must be a POLYGON or MULTIPOLYGON, not a LINESTRING"),
        ("GEOMETRYCOLLECTION(POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28)), POINT(1 2))", "WKT at character 72: a site must be"),
        ("POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28)) POLYGON", "at character 52: unexpected 'POLYGON' after the geometry"),
        ("POLYGON((120 28; 120.01 28))", "unexpected character ';' at character 16"),
        ("POLYGON EMPTY", "the WKT holds no polygon")
    ])
    func wktErrorsNameTheCharacter(_ text: String, _ expected: String) {
        let e = siteError { try SiteReader.wkt(text, crs: nil) }
        #expect(e?.message.contains(expected) == true, "\(e?.message ?? "no error")")
    }

    @Test func wktVariantsStillRead() throws {
        for text in [
            "POLYGON Z ((120 28 5, 120.01 28 5, 120.01 28.01 5, 120 28 5))", "polygon((120 28,120.01 28,120.01 28.01,120 28))",
            "MULTIPOLYGON(EMPTY, ((120 28, 120.01 28, 120.01 28.01, 120 28)))",
            "POLYGON ZM ((120 28 1 2, 120.01 28 1 2, 120.01 28.01 1 2, 120 28 1 2))",
            "\n  POLYGON ((120 28, 120.01 28, 120.01 28.01, 120 28), (120.005 28.001, 120.006 28.001, 120.006 28.002, 120.005 28.001))\n"
        ] {
            #expect(try SiteReader.wkt(text, crs: nil).areaM2 > 1000, "\(text)")
        }
        let limited = siteError {
            try SiteReader.wkt("POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))", crs: nil, limits: SiteLimits(maxVertices: 3))
        }
        #expect(limited?.kind == .tooLarge)
    }
}

extension ParserRegressionTests {
    /// Rings that overlap themselves many times: MakeValid ("structure") left a self-intersection
    /// and, being the only part, the site was kept invalid. It is now always valid.
    @Test(arguments: [
        "POLYGON ((118.9 27.667052191, 118.911 28, 118.910445 27.7, 118.9092277 27.67, 119 27.67, 118.9 27.6663317, 118.906969 27.66, 118.911 28, 118.910445 27.7, 118.9092277 27.67, 119 27.424, 118.911 28, 118.910445 27.7, 118.9092277 27.67, 119 27.740, 118.90775966 27.66, 118.91331 27.66435660, 118.91213 27.665, 118.9 27.667052191))",
        "POLYGON ((119.900 27.623, 119.9 27.63, 119.897191098 27.621, 119.9 27.62, 119.90 27.62958, 119.90384 27.63273, 120 27.621, 119.9 27.62, 119.905416569 27.630, 120 27.619, 119.9042716 27.62137609, 120 27.632, 119.900 27.623))"
    ])
    func repairedSiteIsValid(_ wkt: String) throws {
        let site = try SiteReader.wkt(wkt, crs: nil)
        let engine = GeometryEngine()
        #expect(try engine.invalidityReason(try engine.make(site.geometry)) == nil)
        #expect(site.warnings.contains { $0.contains("repaired") })
        #expect(site.areaM2 > 0)
    }
}
