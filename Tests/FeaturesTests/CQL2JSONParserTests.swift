import GeoCore
import Testing

@testable import Features

/// The JSON encoding reads to the same expressions as the text, and its errors point at the
/// character where the offending value starts.
struct CQL2JSONParserTests {
    /// Each operator, in text and in JSON.
    @Test(
        arguments: [
            ("DLBM = '0101'", #"{"op": "=", "args": [{"property": "DLBM"}, "0101"]}"#),
            ("GJ <> -3", #"{"op": "<>", "args": [{"property": "GJ"}, -3]}"#),
            (
                "GJ < 1 AND GJ > 0 OR GJ <= 2 AND GJ >= 1.5e3",
                #"{"op": "or", "args": [{"op": "and", "args": [{"op": "<", "args": [{"property": "GJ"}, 1]}, {"op": ">", "args": [{"property": "GJ"}, 0]}]}, {"op": "and", "args": [{"op": "<=", "args": [{"property": "GJ"}, 2]}, {"op": ">=", "args": [{"property": "GJ"}, 1500]}]}]}"#
            ),
            ("NOT (DLMC IS NULL)", #"{"op": "not", "args": [{"op": "isNull", "args": [{"property": "DLMC"}]}]}"#),
            ("TRUE", "true"),
            ("DLBM LIKE '01%'", #"{"op": "like", "args": [{"property": "DLBM"}, "01%"]}"#),
            (
                "CASEI(DLBM) LIKE CASEI('a\\_%')",
                #"{"op": "like", "args": [{"op": "casei", "args": [{"property": "DLBM"}]}, {"op": "casei", "args": ["a\\_%"]}]}"#
            ),
            (
                "ACCENTI(DLMC) = ACCENTI('Café')",
                #"{"op": "=", "args": [{"op": "accenti", "args": [{"property": "DLMC"}]}, {"op": "accenti", "args": ["Caf\u00e9"]}]}"#
            ),
            ("GJ BETWEEN 2 AND 5", #"{"op": "between", "args": [{"property": "GJ"}, 2, 5]}"#),
            ("DLBM IN ('0101', '0102')", #"{"op": "in", "args": [{"property": "DLBM"}, ["0101", "0102"]]}"#),
            (
                "GJ + 2 * 3 - 1 > TBMJ / 4 % 3",
                #"{"op": ">", "args": [{"op": "-", "args": [{"op": "+", "args": [{"property": "GJ"}, {"op": "*", "args": [2, 3]}]}, 1]}, {"op": "%", "args": [{"op": "/", "args": [{"property": "TBMJ"}, 4]}, 3]}]}"#
            ),
            (
                "GJ div 2 = 2 ^ 3 ^ 2",
                #"{"op": "=", "args": [{"op": "div", "args": [{"property": "GJ"}, 2]}, {"op": "^", "args": [2, {"op": "^", "args": [3, 2]}]}]}"#
            ),
            ("d > DATE('2024-01-31')", #"{"op": ">", "args": [{"property": "d"}, {"date": "2024-01-31"}]}"#),
            ("t < TIMESTAMP('2024-01-31T08:00:00Z')", #"{"op": "<", "args": [{"property": "t"}, {"timestamp": "2024-01-31T08:00:00Z"}]}"#),
            (
                "S_INTERSECTS(geometry, POINT(120 28))",
                #"{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [120, 28]}]}"#
            ),
            (
                "S_TOUCHES(geometry, LINESTRING(0 0, 1 1))",
                #"{"op": "s_touches", "args": [{"property": "geometry"}, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}]}"#
            ),
            (
                "S_WITHIN(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))",
                #"{"op": "s_within", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}"#
            ),
            (
                "S_CONTAINS(BBOX(119, 27, 121, 29), geometry)",
                #"{"op": "s_contains", "args": [{"bbox": [119, 27, 121, 29]}, {"property": "geometry"}]}"#
            ),
            (
                "S_OVERLAPS(geometry, MULTIPOINT(1 2, 3 4))",
                #"{"op": "s_overlaps", "args": [{"property": "geometry"}, {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}]}"#
            ),
            ("S_CROSSES(geometry, geometry)", #"{"op": "s_crosses", "args": [{"property": "geometry"}, {"property": "geometry"}]}"#),
            (
                "S_DISJOINT(geometry, POINT(1 2))",
                #"{"op": "s_disjoint", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1, 2]}]}"#
            ),
            (
                "S_EQUALS(geometry, POINT(1 2))",
                #"{"op": "s_equals", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1, 2]}]}"#
            )
        ] as [(String, String)])
    func sameAsText(_ text: String, _ json: String) throws {
        let fromText = try CQL2Parser.parse(text)
        let fromJSON = try CQL2JSONParser.parse(json)
        #expect(fromText == fromJSON, "\(text)\n\(json)")
    }

    /// Where each predicate and property was written, for the errors found after parsing.
    @Test func positionsOfPredicatesAndProperties() throws {
        let text = try CQL2Parser.parseFilter("GJ = 1 AND (DLBM LIKE 'a%' OR S_INTERSECTS(geometry, POINT(1 2)))")
        #expect(text.predicatePositions == [1, 13, 31])
        #expect(text.propertyPositions == ["GJ": 1, "DLBM": 13, "geometry": 44])
        let json = try CQL2JSONParser.parseFilter(#"{"op": "and", "args": [{"op": "=", "args": [{"property": "GJ"}, 1]}, true]}"#)
        #expect(json.predicatePositions == [24, 70])
        #expect(json.propertyPositions == ["GJ": 58])
    }

    @Test(
        arguments: [
            (#"{"op": "=", "args": [{"property": "GJ"}, 1]"#, 44, "not closed with '}'"),
            (#"{"op": "=", "args": [{"property": "GJ"}]}"#, 1, "takes 2 arguments, found 1"),
            (#"{"op": "nope", "args": []}"#, 8, "unknown operator \"nope\""),
            (#"{"op": "=", "args": [{"property": "GJ"}, null]}"#, 42, "null is not a value"),
            (#"{"op": "like", "args": [{"property": "DLBM"}, {"property": "DLBM"}]}"#, 47, "pattern of \"like\""),
            (#"{"op": "in", "args": [{"property": "GJ"}, 1]}"#, 43, "non-empty array"),
            (
                #"{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1]}]}"#, 59,
                "not a GeoJSON geometry"
            ),
            (#"{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [1, 2, 3]}]}"#, 68, "4 (or 6) numbers"),
            (#"{"op": "+", "args": [1, 2]}"#, 8, "gives a value, not a condition"),
            (#"{"op": "=", "args": [{"op": "foo", "args": []}, 1]}"#, 29, "unknown function \"foo\""),
            (#"{"op": "=", "args": [{"date": "2024-13"}, 1]}"#, 31, "YYYY-MM-DD"),
            (#"{"op": "t_after", "args": []}"#, 8, "temporal"),
            (#"{"op": "=", "args": [1, 01]}"#, 25, "not a JSON number"),
            (#"{"op": "=", "args": [1, 2]} x"#, 29, "unexpected text"),
            ("DLBM = '0101'", 1, "expected a JSON value"),
            (#"{"op": "and", "args": [true]}"#, 1, "at least 2 arguments")
        ] as [(String, Int, String)])
    func malformedJSONPointsAtTheProblem(_ json: String, _ position: Int, _ message: String) throws {
        do {
            let e = try CQL2JSONParser.parse(json)
            Issue.record("parsed '\(json)' as \(e)")
        } catch let e as CQL2SyntaxError {
            #expect(e.position == position, "\(json): \(e)")
            #expect(e.message.contains(message), "\(json): \(e)")
        }
    }

    @Test func hostileJSONIsRefused() throws {
        let deep = String(repeating: #"{"op": "not", "args": ["#, count: 200) + "true" + String(repeating: "]}", count: 200)
        #expect(throws: CQL2SyntaxError.self) { try CQL2JSONParser.parse(deep) }
        let arrays = String(repeating: "[", count: 10_000)
        #expect(throws: CQL2SyntaxError.self) { try CQL2JSONParser.parse(arrays) }
        let many =
            #"{"op": "or", "args": ["#
            + Array(repeating: #"{"op": "=", "args": [{"property": "GJ"}, 1]}"#, count: 300).joined(separator: ",") + "]}"
        #expect(throws: CQL2SyntaxError.self) { try CQL2JSONParser.parse(many) }
        // Strings escape as JSON says, surrogate pairs included.
        #expect(
            try CQL2JSONParser.parse(#"{"op": "=", "args": [{"property": "a"}, "\ud83d\ude00\n\"\u4e3d"]}"#)
                == .compare(.equal, .property("a"), .string("😀\n\"丽")))
    }
}
