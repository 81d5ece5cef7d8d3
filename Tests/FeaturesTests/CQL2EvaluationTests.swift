import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Features

/// Each CQL2 operator run as SQL over the fixture's parcels, in both encodings, against the
/// answer worked out here in Swift from how the fixture builds them (FeatureFixtures).
struct CQL2EvaluationTests {
    let fixtures: FeatureFixtures
    init() throws { fixtures = try sharedFixtures.get() }

    /// A parcel as the fixture makes it; the triangle "T" has no cell.
    struct Parcel: Sendable {
        let bsm: String
        let dlbm: String
        let dlmc: String?
        let tbmj: Double
        let gj: Int
        let cell: (i: Int, j: Int)?
    }

    static let parcels: [Parcel] = {
        var out: [Parcel] = []
        for j in 0..<10 {
            for i in 0..<10 {
                out.append(
                    Parcel(
                        bsm: "P\(j)\(i)", dlbm: ["0101", "0102", "0103"][i % 3],
                        dlmc: (i == 9 && j == 9) ? nil : ["水田", "水浇地", "旱地"][i % 3],
                        tbmj: Double(100 * (i + 1) + j), gj: j, cell: (i, j)))
            }
        }
        out.append(Parcel(bsm: "T", dlbm: "0101", dlmc: "it's \"quoted\"", tbmj: 5, gj: 0, cell: nil))
        return out
    }()

    static func cells(_ pairs: [(Int, Int)]) -> @Sendable (Parcel) -> Bool {
        { p in p.cell.map { c in pairs.contains { $0 == c } } ?? false }
    }

    /// SQL's NULL: the row does not match.
    static func divide(_ a: Double, _ b: Double) -> Double? { b == 0 ? nil : a / b }

    static let cases: [(text: String, json: String, expected: @Sendable (Parcel) -> Bool)] = [
        (
            "GJ + 2 * 3 > 10", #"{"op": ">", "args": [{"op": "+", "args": [{"property": "GJ"}, {"op": "*", "args": [2, 3]}]}, 10]}"#,
            { $0.gj + 6 > 10 }
        ),
        (
            "(GJ + 2) * 3 > 20", #"{"op": ">", "args": [{"op": "*", "args": [{"op": "+", "args": [{"property": "GJ"}, 2]}, 3]}, 20]}"#,
            { ($0.gj + 2) * 3 > 20 }
        ),
        (
            "GJ - 3 - 2 = 0", #"{"op": "=", "args": [{"op": "-", "args": [{"op": "-", "args": [{"property": "GJ"}, 3]}, 2]}, 0]}"#,
            { $0.gj == 5 }
        ),
        ("GJ / 4 = 1.25", #"{"op": "=", "args": [{"op": "/", "args": [{"property": "GJ"}, 4]}, 1.25]}"#, { $0.gj == 5 }),
        (
            "TBMJ div 100 = 3", #"{"op": "=", "args": [{"op": "div", "args": [{"property": "TBMJ"}, 100]}, 3]}"#,
            { ($0.tbmj / 100).rounded(.towardZero) == 3 }
        ),
        ("TBMJ % 7 = 3", #"{"op": "=", "args": [{"op": "%", "args": [{"property": "TBMJ"}, 7]}, 3]}"#, { fmod($0.tbmj, 7) == 3 }),
        ("GJ ^ 2 >= 49", #"{"op": ">=", "args": [{"op": "^", "args": [{"property": "GJ"}, 2]}, 49]}"#, { $0.gj * $0.gj >= 49 }),
        ("-GJ < -7", #"{"op": "<", "args": [{"op": "-", "args": [0, {"property": "GJ"}]}, -7]}"#, { -$0.gj < -7 }),
        (
            "10 / (GJ - 4) > 2", #"{"op": ">", "args": [{"op": "/", "args": [10, {"op": "-", "args": [{"property": "GJ"}, 4]}]}, 2]}"#,
            { divide(10, Double($0.gj - 4)).map { $0 > 2 } ?? false }
        ),
        (
            "NOT (10 / (GJ - 4) > 2)",
            #"{"op": "not", "args": [{"op": ">", "args": [{"op": "/", "args": [10, {"op": "-", "args": [{"property": "GJ"}, 4]}]}, 2]}]}"#,
            { divide(10, Double($0.gj - 4)).map { !($0 > 2) } ?? false }
        ),
        (
            "GJ % 0 = 0 OR GJ div 0 = 0",
            #"{"op": "or", "args": [{"op": "=", "args": [{"op": "%", "args": [{"property": "GJ"}, 0]}, 0]}, {"op": "=", "args": [{"op": "div", "args": [{"property": "GJ"}, 0]}, 0]}]}"#,
            { _ in false }
        ),
        ("CASEI(BSM) = 'p53'", #"{"op": "=", "args": [{"op": "casei", "args": [{"property": "BSM"}]}, "p53"]}"#, { $0.bsm == "P53" }),
        (
            "CASEI(BSM) LIKE CASEI('p5%')",
            #"{"op": "like", "args": [{"op": "casei", "args": [{"property": "BSM"}]}, {"op": "casei", "args": ["p5%"]}]}"#,
            { $0.bsm.hasPrefix("P5") }
        ),
        ("BSM LIKE 'p5%'", #"{"op": "like", "args": [{"property": "BSM"}, "p5%"]}"#, { _ in false }),
        (
            "ACCENTI(CASEI(BSM)) = ACCENTI('p̈5̀3')",
            #"{"op": "=", "args": [{"op": "accenti", "args": [{"op": "casei", "args": [{"property": "BSM"}]}]}, {"op": "accenti", "args": ["p̈5̀3"]}]}"#,
            { $0.bsm == "P53" }
        ),
        (
            "ACCENTI('Crème Brûlée') = 'Creme Brulee' AND GJ = 1",
            #"{"op": "and", "args": [{"op": "=", "args": [{"op": "accenti", "args": ["Crème Brûlée"]}, "Creme Brulee"]}, {"op": "=", "args": [{"property": "GJ"}, 1]}]}"#,
            { $0.gj == 1 }
        ),
        (
            "CASEI('ÄRGER') = CASEI('ärger') AND GJ = 2",
            #"{"op": "and", "args": [{"op": "=", "args": [{"op": "casei", "args": ["ÄRGER"]}, {"op": "casei", "args": ["ärger"]}]}, {"op": "=", "args": [{"property": "GJ"}, 2]}]}"#,
            { $0.gj == 2 }
        ),
        ("DLMC LIKE 'it''s%'", #"{"op": "like", "args": [{"property": "DLMC"}, "it's%"]}"#, { $0.bsm == "T" }),
        ("DLMC IS NULL", #"{"op": "isNull", "args": [{"property": "DLMC"}]}"#, { $0.dlmc == nil }),
        (
            "TBMJ NOT BETWEEN 200 AND 1000", #"{"op": "not", "args": [{"op": "between", "args": [{"property": "TBMJ"}, 200, 1000]}]}"#,
            { !(200...1000).contains($0.tbmj) }
        ),
        (
            "GJ * 100 BETWEEN TBMJ - 100 AND TBMJ",
            #"{"op": "between", "args": [{"op": "*", "args": [{"property": "GJ"}, 100]}, {"op": "-", "args": [{"property": "TBMJ"}, 100]}, {"property": "TBMJ"}]}"#,
            { Double($0.gj * 100) >= $0.tbmj - 100 && Double($0.gj * 100) <= $0.tbmj }
        ),
        (
            "DLBM NOT IN ('0101', '0103')", #"{"op": "not", "args": [{"op": "in", "args": [{"property": "DLBM"}, ["0101", "0103"]]}]}"#,
            { $0.dlbm == "0102" }
        ),
        (
            "S_TOUCHES(geometry, POINT(120.001 28.001))",
            #"{"op": "s_touches", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [120.001, 28.001]}]}"#,
            cells([(0, 0), (1, 0), (0, 1), (1, 1)])
        ),
        (
            "S_TOUCHES(geometry, POLYGON((120.001 28.001, 120.002 28.001, 120.002 28.002, 120.001 28.002, 120.001 28.001)))",
            #"{"op": "s_touches", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[120.001, 28.001], [120.002, 28.001], [120.002, 28.002], [120.001, 28.002], [120.001, 28.001]]]}]}"#,
            cells([(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (0, 2), (1, 2), (2, 2)])
        ),
        (
            "S_OVERLAPS(geometry, BBOX(120.0005, 28.0005, 120.0015, 28.0015))",
            #"{"op": "s_overlaps", "args": [{"property": "geometry"}, {"bbox": [120.0005, 28.0005, 120.0015, 28.0015]}]}"#,
            cells([(0, 0), (1, 0), (0, 1), (1, 1)])
        ),
        (
            "S_OVERLAPS(geometry, POLYGON((120.001 28.001, 120.002 28.001, 120.002 28.002, 120.001 28.002, 120.001 28.001)))",
            #"{"op": "s_overlaps", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[120.001, 28.001], [120.002, 28.001], [120.002, 28.002], [120.001, 28.002], [120.001, 28.001]]]}]}"#,
            { _ in false }
        ),
        (
            "S_CROSSES(geometry, LINESTRING(120.0005 28.0005, 120.0025 28.0015))",
            #"{"op": "s_crosses", "args": [{"property": "geometry"}, {"type": "LineString", "coordinates": [[120.0005, 28.0005], [120.0025, 28.0015]]}]}"#,
            cells([(0, 0), (1, 0), (1, 1), (2, 1)])
        ),
        (
            "S_CROSSES(LINESTRING(120.0005 28.0005, 120.0015 28.0005), geometry)",
            #"{"op": "s_crosses", "args": [{"type": "LineString", "coordinates": [[120.0005, 28.0005], [120.0015, 28.0005]]}, {"property": "geometry"}]}"#,
            cells([(0, 0), (1, 0)])
        ),
        (
            "S_CROSSES(geometry, LINESTRING(120.001 28.0005, 120.001 28.0015))",
            #"{"op": "s_crosses", "args": [{"property": "geometry"}, {"type": "LineString", "coordinates": [[120.001, 28.0005], [120.001, 28.0015]]}]}"#,
            { _ in false }
        ),
        (
            "S_WITHIN(geometry, geometry)", #"{"op": "s_within", "args": [{"property": "geometry"}, {"property": "geometry"}]}"#,
            { _ in true }
        ),
        (
            "S_DISJOINT(geometry, geometry)", #"{"op": "s_disjoint", "args": [{"property": "geometry"}, {"property": "geometry"}]}"#,
            { _ in false }
        ),
        (
            "S_CONTAINS(BBOX(0, 0, 2, 2), POINT(1 1)) AND GJ = 3",
            #"{"op": "and", "args": [{"op": "s_contains", "args": [{"bbox": [0, 0, 2, 2]}, {"type": "Point", "coordinates": [1, 1]}]}, {"op": "=", "args": [{"property": "GJ"}, 3]}]}"#,
            { $0.gj == 3 }
        ),
        (
            "S_TOUCHES(POINT(0 0), POINT(0 0)) OR GJ = 3",
            #"{"op": "or", "args": [{"op": "s_touches", "args": [{"type": "Point", "coordinates": [0, 0]}, {"type": "Point", "coordinates": [0, 0]}]}, {"op": "=", "args": [{"property": "GJ"}, 3]}]}"#,
            { $0.gj == 3 }
        )
    ]

    @Test func everyOperatorMatchesItsMeaning() async throws {
        try await fixtures.app().test(.router) { client in
            for (text, json, expected) in Self.cases {
                let want = Self.parcels.filter(expected).map(\.bsm).sorted()
                for (lang, filter) in [("cql2-text", text), ("cql2-json", json)] {
                    let r = try await client.get("/collections/parcels/items?limit=1000&filter-lang=\(lang)&filter=\(q(filter))")
                    #expect(r.status == .ok, "\(lang) \(filter): \(r.text.prefix(300))")
                    guard r.status == .ok else { continue }
                    let got = try r.ids().sorted()
                    #expect(got == want, "\(lang) \(filter)")
                }
            }
        }
    }

    /// Errors found after parsing say at which character of the filter, in either encoding.
    @Test(
        arguments: [
            ("cql2-text", "GJ = 1 AND NOPE = 1", "filter: at character 12: unknown property 'NOPE'"),
            ("cql2-text", "GJ = 1 AND DLBM + 1 > 2", "at character 12: '+' needs numbers; property 'DLBM' is not a number"),
            ("cql2-text", "GJ = 1 OR ACCENTI(GJ) = 'a'", "at character 11: ACCENTI needs text"),
            ("cql2-text", "GJ = 1 OR S_CROSSES(DLBM, POINT(1 2))", "at character 11: S_CROSSES: 'DLBM' is not a geometry"),
            (
                "cql2-json", #"{"op": "and", "args": [true, {"op": "like", "args": [{"property": "GJ"}, "1%"]}]}"#,
                "at character 30: LIKE needs text"
            ),
            ("cql2-json", #"{"op": "=", "args": [{"property": "TBMJ"}, "100"]}"#, "at character 1: cannot compare"),
            ("cql2-json", #"{"op": "=", "args": [{"property": "TBMJ"}, 1]"#, "malformed cql2-json at character 46"),
            ("cql2-xml", "GJ = 1", "use cql2-text or cql2-json")
        ] as [(String, String, String)])
    func translationErrorsSayWhere(_ lang: String, _ filter: String, _ message: String) async throws {
        try await fixtures.app().test(.router) { client in
            let r = try await client.get("/collections/parcels/items?filter-lang=\(lang)&filter=\(q(filter))")
            #expect(r.status == .badRequest, "\(filter)")
            #expect(try r.code() == "InvalidParameterValue")
            let description = try r.json()["description"] as? String ?? ""
            #expect(description.contains(message), "\(filter): \(description)")
        }
    }
}
