import Foundation
import FuzzSupport
import GeoCore
import Testing
import VectorIO

@testable import Conflicts

// Fuzzing the GeoJSON and WKT site readers (see SiteParserFuzz for the harness and its settings).

extension SiteParserFuzz {
    // MARK: GeoJSON

    static let jsonDictionary: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "\"type\"", "\"Polygon\"",
        "\"MultiPolygon\"", "\"Feature\"", "\"FeatureCollection\"", "\"GeometryCollection\"",
        "\"coordinates\"", "\"geometry\"", "\"geometries\"", "\"features\"", "\"properties\"",
        "\"crs\"", "{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4528\"}}", "\"urn:ogc:def:crs:EPSG::4490\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\\"", "1e999", "-0", "[[[[[[[[", "]]]]]]]]", "\"Point\"",
        "\"LineString\"", "[120,28]", "[[120,28],[120.001,28],[120.001,28.001],[120,28]]"
    ].map { Array($0.utf8) }

    static func polygonJSON(_ r: inout FuzzRandom) -> String {
        let c = lishui(&r), radius = r.chance(0.1) ? r.double(1e-9...1e-6) : r.double(1e-4...2e-2)
        var rings = [ring(&r, center: c, radius: radius, n: r.int(3...14))]
        if r.chance(0.2) { rings.append(ring(&r, center: c, radius: radius * 0.3, n: r.int(3...6))) }
        if r.chance(0.05) { rings.append(ring(&r, center: (c.0 + radius * 3, c.1), radius: radius, n: 4)) }  // a hole outside
        return "["
            + rings.map { "[" + closed($0.dropLast().map { "[\(number($0.0, &r)),\(number($0.1, &r))]" }).joined(separator: ",") + "]" }
            .joined(separator: ",") + "]"
    }

    static func geometryJSON(_ r: inout FuzzRandom, depth: Int = 0) -> String {
        switch r.int(0..<10) {
        case 0..<5: return #"{"type":"Polygon","coordinates":\#(polygonJSON(&r))}"#
        case 5..<8:
            return #"{"type":"MultiPolygon","coordinates":[\#((0..<r.int(1...3)).map { _ in polygonJSON(&r) }.joined(separator: ","))]}"#
        case 8 where depth < 3:
            return
                #"{"type":"GeometryCollection","geometries":[\#((0..<r.int(0...3)).map { _ in geometryJSON(&r, depth: depth + 1) }.joined(separator: ","))]}"#
        default:
            let c = lishui(&r)
            return r.chance(0.5)
                ? #"{"type":"Point","coordinates":[\#(c.0),\#(c.1)]}"#
                : #"{"type":"LineString","coordinates":[[\#(c.0),\#(c.1)],[\#(c.0 + 0.01),\#(c.1)]]}"#
        }
    }

    static func propertiesJSON(_ r: inout FuzzRandom) -> String {
        r.pick([
            #"{}"#, "null", #"{"projectCode":"2026-331102-01","projectName":"某物流园","n":1.5,"x":[1,{"y":null}]}"#, #"{"名称":"丽水\u0000\n"}"#,
            "[]", "\"s\""
        ])
    }

    static func geoJSONSite(_ r: inout FuzzRandom) -> String {
        let crs =
            r.chance(0.03)
            ? #","crs":{"type":"name","properties":{"name":"\#(r.pick(["EPSG:4490", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4528", "EPSG:99999", "+proj=longlat", "urn:ogc:def:crs:EPSG::4326", ""]))"}}"#
            : ""
        switch r.int(0..<3) {
        case 0: return String(geometryJSON(&r).dropLast()) + crs + "}"
        case 1: return #"{"type":"Feature","properties":\#(propertiesJSON(&r)),"geometry":\#(geometryJSON(&r))\#(crs)}"#
        default:
            let features = (0..<r.int(0...4)).map { _ in
                #"{"type":"Feature","properties":\#(propertiesJSON(&r)),"geometry":\#(geometryJSON(&r))}"#
            }
            return #"{"type":"FeatureCollection"\#(crs),"features":[\#(features.joined(separator: ","))]}"#
        }
    }

    /// Inputs that stress the JSON reader itself.
    static func hostileJSON(_ r: inout FuzzRandom) -> [UInt8] {
        let depth = hostileSize(&r)
        switch r.int(0..<6) {
        case 0:
            return Array(
                (#"{"type":"Polygon","coordinates":"# + String(repeating: "[", count: depth)
                    + String(repeating: "]", count: r.chance(0.5) ? depth : 0) + "}").utf8)
        case 1:
            return Array(
                (String(repeating: #"{"type":"GeometryCollection","geometries":["#, count: min(depth, 2_000))
                    + String(repeating: "]}", count: min(depth, 2_000))).utf8)
        case 2: return Array((String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
        case 3:
            return Array(
                #"{"type":"Polygon","coordinates":[[[\#(r.pick(Mutator.interestingNumbers)),28],[120,\#(r.pick(Mutator.interestingNumbers))],[120.1,28.1],[\#(r.pick(Mutator.interestingNumbers)),28]]]}"#
                    .utf8)
        case 4:
            return Array(
                #"{"type":"Polygon","coordinates":[[[120,28],[120.1,28],[120.1,28.1],[120,28]]],"x":"\#(String(repeating: "\\u00e9\\ud83d\\ude00", count: depth / 10))"}"#
                    .utf8)
        default:
            return Array(
                (#"{"type":"Polygon","coordinates":[["# + String(repeating: "[120.0001,28.0001],", count: hostileSize(&r) / 2)
                    + "[120,28]]]}").utf8)
        }
    }

    static func geoJSONCase(_ r: inout FuzzRandom, corpus: [[UInt8]], mutator: Mutator) -> [UInt8] {
        switch r.int(0..<20) {
        case 0..<4: return Array(geoJSONSite(&r).utf8)
        case 4..<14: return mutator.mutate(r.chance(0.5) ? r.pick(corpus) : Array(geoJSONSite(&r).utf8), &r)
        case 14..<16: return hostileJSON(&r)
        case 16:  // GBK or UTF-16 text
            let text = String(decoding: r.pick(corpus), as: UTF8.self)
            return r.chance(0.5) ? (TextEncoding.encode(text, to: "GBK") ?? []) : Array(text.data(using: .utf16) ?? Data())
        case 17: return (0..<r.int(0...256)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
        default:  // random JSON-ish tokens
            return (0..<r.int(1...40)).flatMap { _ in r.pick(jsonDictionary) }
        }
    }

    // MARK: WKT

    static let wktDictionary: [[UInt8]] = [
        "(", ")", ",", " ", "POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "POINT", "LINESTRING",
        "EMPTY", " Z ", " M ", " ZM ", "SRID=4490;", "((", "))", "(((", ")))", "nan", "inf", "-",
        "1e400", "120 28", "0 0, 1 0, 1 1, 0 0", "TRIANGLE", "POLYHEDRALSURFACE", "CURVEPOLYGON"
    ].map { Array($0.utf8) }

    static func wktRing(_ r: inout FuzzRandom, projected: Bool) -> String {
        let c = projected ? (r.double(40_440_000...40_520_000), r.double(3_100_000...3_200_000)) : lishui(&r)
        let radius = projected ? r.double(1...2_000) : r.double(1e-4...2e-2)
        return "("
            + closed(ring(&r, center: c, radius: radius, n: r.int(3...12)).dropLast().map { "\(number($0.0, &r)) \(number($0.1, &r))" })
            .joined(separator: ", ") + ")"
    }

    static func wktPolygon(_ r: inout FuzzRandom, projected: Bool) -> String {
        "(" + (0..<r.int(1...2)).map { _ in wktRing(&r, projected: projected) }.joined(separator: ", ") + ")"
    }

    static func wktSite(_ r: inout FuzzRandom, projected: Bool, depth: Int = 0) -> String {
        switch r.int(0..<10) {
        case 0..<5: return "POLYGON " + wktPolygon(&r, projected: projected)
        case 5..<8:
            return "MULTIPOLYGON (" + (0..<r.int(1...3)).map { _ in wktPolygon(&r, projected: projected) }.joined(separator: ", ") + ")"
        case 8 where depth < 3:
            return "GEOMETRYCOLLECTION ("
                + (0..<r.int(1...3)).map { _ in wktSite(&r, projected: projected, depth: depth + 1) }.joined(separator: ", ") + ")"
        default:
            return r.pick([
                "POINT (120 28)", "LINESTRING (120 28, 121 29)", "POLYGON EMPTY", "MULTIPOLYGON EMPTY",
                "POLYGON Z ((120 28 1, 120.01 28 1, 120.01 28.01 1, 120 28 1))"
            ])
        }
    }

    static func hostileWKT(_ r: inout FuzzRandom) -> [UInt8] {
        let depth = hostileSize(&r)
        switch r.int(0..<4) {
        case 0:
            return Array(
                (String(repeating: "GEOMETRYCOLLECTION(", count: depth) + "POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))"
                    + String(repeating: ")", count: depth)).utf8)
        case 1: return Array(("POLYGON" + String(repeating: "(", count: depth) + "120 28" + String(repeating: ")", count: depth)).utf8)
        case 2: return Array(("POLYGON((" + String(repeating: "120.0001 28.0001, ", count: hostileSize(&r) / 2) + "120 28))").utf8)
        default:
            return Array(
                "POLYGON((\(r.pick(Mutator.interestingNumbers)) 28, 120.01 \(r.pick(Mutator.interestingNumbers)), 120.01 28.01, 120 28))"
                    .utf8)
        }
    }
}

struct GeoJSONAndWKTFuzzTests {
    typealias Fuzz = SiteParserFuzz

    @Test(.timeLimit(.minutes(10))) func geoJSONNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.geoJSONNeverCrashesAndErrorsSayWhereBody() }
    }

    func geoJSONNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(30)
        let corpus = Fuzz.sample(".geojson")
        try #require(corpus.count >= 5, "the sample projects are the seeds")
        let mutator = Mutator(dictionary: Fuzz.jsonDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz(
            "geojson", tag: 1, count: count,
            make: { r in
                (Fuzz.geoJSONCase(&r, corpus: corpus, mutator: mutator), Fuzz.limits(&r))
            }, parsers: [{ input, limits in Fuzz.run { try SiteReader.geoJSON(Data(input), limits: limits) } }, Fuzz.sniffing])
        for f in ledger.failures { Issue.record(Comment(rawValue: f)) }
        #expect(ledger.cases == (FuzzConfig.only == nil ? count : 1))
        #expect(ledger.sites > 0 && ledger.errors > 0, "the cases reach both outcomes")
    }

    @Test(.timeLimit(.minutes(10))) func wktNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.wktNeverCrashesAndErrorsSayWhereBody() }
    }

    func wktNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(20)
        var seedRandom = FuzzRandom(seed: FuzzConfig.seed)
        let corpus = (0..<40).map { i in Array(Fuzz.wktSite(&seedRandom, projected: i % 2 == 1).utf8) }
        let mutator = Mutator(dictionary: Fuzz.wktDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz(
            "wkt", tag: 2, count: count,
            make: { r in
                let input: [UInt8]
                switch r.int(0..<20) {
                case 0..<4: input = Array(Fuzz.wktSite(&r, projected: r.chance(0.3)).utf8)
                case 4..<15: input = mutator.mutate(r.pick(corpus), &r)
                case 15..<17: input = Fuzz.hostileWKT(&r)
                case 17: input = (0..<r.int(0...128)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
                default: input = (0..<r.int(1...30)).flatMap { _ in r.pick(Fuzz.wktDictionary) }
                }
                return (input, Fuzz.limits(&r))
            },
            parsers: [
                { input, limits in
                    // Projected coordinates need their CRS; lon/lat ones are read as CGCS2000.
                    let text = String(decoding: input, as: UTF8.self)
                    let crs: String? = text.contains("4049") || text.contains("4050") || text.contains("4051") ? "EPSG:4528" : nil
                    return Fuzz.run { try SiteReader.wkt(text, crs: crs, limits: limits) }
                }, Fuzz.sniffing
            ])
        for f in ledger.failures { Issue.record(Comment(rawValue: f)) }
        #expect(ledger.cases == (FuzzConfig.only == nil ? count : 1))
        #expect(ledger.sites > 0 && ledger.errors > 0, "the cases reach both outcomes")
    }
}
