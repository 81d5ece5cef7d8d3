import GeoCore
import Testing

@testable import Features

struct CQL2ParserTests {
    func parse(_ s: String) throws -> CQL2Expression { try CQL2Parser.parse(s) }

    @Test func comparisonsAndBooleanStructure() throws {
        #expect(try parse("DLBM = '0101'") == .compare(.equal, .property("DLBM"), .string("0101")))
        #expect(try parse("TBMJ>=1.5e3") == .compare(.greaterOrEqual, .property("TBMJ"), .number(1500)))
        #expect(try parse("GJ <> -3") == .compare(.notEqual, .property("GJ"), .number(-3)))
        // AND binds tighter than OR; NOT tighter than AND; keywords in any case.
        #expect(
            try parse("a = 1 or b = 2 AND NOT c = 3")
                == .or([
                    .compare(.equal, .property("a"), .number(1)),
                    .and([.compare(.equal, .property("b"), .number(2)), .not(.compare(.equal, .property("c"), .number(3)))])
                ]))
        #expect(
            try parse("(a = 1 OR b = 2) AND c < 3")
                == .and([
                    .or([.compare(.equal, .property("a"), .number(1)), .compare(.equal, .property("b"), .number(2))]),
                    .compare(.less, .property("c"), .number(3))
                ]))
        #expect(try parse("\"地类 名称\" = 'x'") == .compare(.equal, .property("地类 名称"), .string("x")))
        #expect(try parse("地类名称 = 'x'") == .compare(.equal, .property("地类名称"), .string("x")))
        #expect(try parse("TRUE") == .literal(true))
        #expect(try parse("name = 'it''s'") == .compare(.equal, .property("name"), .string("it's")))
    }

    @Test func advancedComparisons() throws {
        #expect(try parse("DLBM LIKE '01%'") == .like(.property("DLBM"), pattern: .string("01%"), negated: false))
        #expect(try parse("DLBM NOT LIKE '01_1'") == .like(.property("DLBM"), pattern: .string("01_1"), negated: true))
        #expect(try parse("GJ BETWEEN 2 AND 5") == .between(.property("GJ"), .number(2), .number(5), negated: false))
        #expect(
            try parse("GJ NOT BETWEEN 2 AND 5 AND x = 1")
                == .and([.between(.property("GJ"), .number(2), .number(5), negated: true), .compare(.equal, .property("x"), .number(1))]))
        #expect(try parse("DLBM IN ('0101', '0102')") == .inList(.property("DLBM"), [.string("0101"), .string("0102")], negated: false))
        #expect(try parse("DLBM NOT IN ('0101')") == .inList(.property("DLBM"), [.string("0101")], negated: true))
        #expect(try parse("DLMC IS NULL") == .isNull(.property("DLMC"), negated: false))
        #expect(try parse("DLMC IS NOT NULL") == .isNull(.property("DLMC"), negated: true))
        #expect(try parse("d > DATE('2024-01-31')") == .compare(.greater, .property("d"), .date("2024-01-31")))
        #expect(try parse("t < TIMESTAMP('2024-01-31T08:00:00Z')") == .compare(.less, .property("t"), .timestamp("2024-01-31T08:00:00Z")))
    }

    @Test func arithmeticPrecedenceAndParentheses() throws {
        let gj = CQL2Scalar.property("GJ")
        #expect(
            try parse("GJ + 2 * 3 > 1")
                == .compare(.greater, .arithmetic(.plus, gj, .arithmetic(.times, .number(2), .number(3))), .number(1)))
        // A parenthesis opens a value when an operator follows it, a group of conditions otherwise.
        #expect(
            try parse("(GJ + 1) * 2 > 3")
                == .compare(.greater, .arithmetic(.times, .arithmetic(.plus, gj, .number(1)), .number(2)), .number(3)))
        #expect(
            try parse("((GJ = 1) OR (GJ + 1 = 3))")
                == .or([
                    .compare(.equal, gj, .number(1)), .compare(.equal, .arithmetic(.plus, gj, .number(1)), .number(3))
                ]))
        #expect(try parse("(GJ) = 1") == .compare(.equal, gj, .number(1)))
        // Left to right for - and div; ^ to the right; a sign binds looser than ^.
        #expect(
            try parse("GJ - 1 - 2 = 0")
                == .compare(.equal, .arithmetic(.minus, .arithmetic(.minus, gj, .number(1)), .number(2)), .number(0)))
        #expect(
            try parse("GJ DIV 2 % 3 = 0")
                == .compare(.equal, .arithmetic(.remainder, .arithmetic(.wholeDivide, gj, .number(2)), .number(3)), .number(0)))
        #expect(
            try parse("2 ^ 3 ^ GJ = 1")
                == .compare(.equal, .arithmetic(.power, .number(2), .arithmetic(.power, .number(3), gj)), .number(1)))
        #expect(
            try parse("-GJ ^ 2 < 0") == .compare(.less, .arithmetic(.minus, .number(0), .arithmetic(.power, gj, .number(2))), .number(0)))
        #expect(try parse("GJ BETWEEN GJ - 1 AND +GJ") == .between(gj, .arithmetic(.minus, gj, .number(1)), gj, negated: false))
    }

    @Test func caseAndAccentFolding() throws {
        #expect(
            try parse("CASEI(DLMC) = casei('Abc')") == .compare(.equal, .casei(.property("DLMC")), .casei(.string("Abc"))))
        #expect(
            try parse("ACCENTI(CASEI(DLMC)) LIKE ACCENTI('é%')")
                == .like(.accenti(.casei(.property("DLMC"))), pattern: .accenti(.string("é%")), negated: false))
        #expect(try parse("DLMC IN (CASEI('a'), 'b')") == .inList(.property("DLMC"), [.casei(.string("a")), .string("b")], negated: false))
        // Folded before the pattern becomes a GLOB, as SQL folds the other side.
        #expect(FilterSQL.folded(.casei(.accenti(.string("CAFÉ_%")))) == "cafe_%")
    }

    @Test func spatialLiterals() throws {
        #expect(
            try parse("S_INTERSECTS(geometry, POINT(120 28))")
                == .spatial(.intersects, .property("geometry"), .literal(.point(Coordinate(120, 28)), isBox: false)))
        let poly = try parse("s_within(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0), (0.2 0.2, 0.4 0.2, 0.4 0.4, 0.2 0.2)))")
        guard case .spatial(.within, .property("geometry"), .literal(.polygon(let p), false)) = poly else {
            Issue.record("\(poly)"); return
        }
        #expect(p.rings.count == 2)
        #expect(
            try parse("S_INTERSECTS(BBOX(119, 27, 121, 29), geometry)")
                == .spatial(
                    .intersects,
                    .literal(
                        .polygon(
                            Polygon([
                                [Coordinate(119, 27), Coordinate(121, 27), Coordinate(121, 29), Coordinate(119, 29), Coordinate(119, 27)]
                            ])), isBox: true), .property("geometry")))
        #expect(
            try parse("S_INTERSECTS(geometry, MULTIPOINT(1 2, 3 4))")
                == .spatial(.intersects, .property("geometry"), .literal(.multiPoint([Coordinate(1, 2), Coordinate(3, 4)]), isBox: false)))
        #expect(
            try parse("S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))")
                == .spatial(.intersects, .property("geometry"), .literal(.multiPoint([Coordinate(1, 2), Coordinate(3, 4)]), isBox: false)))
        #expect(
            try parse("S_INTERSECTS(geometry, LINESTRING Z (1 2 3, 4 5 6))")
                == .spatial(.intersects, .property("geometry"), .literal(.lineString([Coordinate(1, 2), Coordinate(4, 5)]), isBox: false)))
        _ = try parse("S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2))))")
        _ = try parse("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1)))")
        // A sign on a coordinate, as some clients write it.
        #expect(
            try parse("S_INTERSECTS(geometry, POINT(+120 -28 +5))")
                == .spatial(.intersects, .property("geometry"), .literal(.point(Coordinate(120, -28)), isBox: false)))
    }

    /// Each malformed filter fails with a message that points at the right character.
    @Test(
        arguments: [
            ("DLBM = ", 8, "expected a property name or a value"),
            ("DLBM = '0101", 8, "not closed"),
            ("DLBM == '0101'", 7, "expected a property name or a value"),
            ("(DLBM = '0101'", 15, "expected ')'"),
            ("DLBM = '0101')", 14, "expected AND, OR or the end"),
            ("DLBM '0101'", 6, "expected a comparison"),
            ("AND DLBM = '1'", 1, "found AND"),
            ("DLBM = '0101' AND", 18, "expected a property name or a value"),
            ("DLBM LIKE 0101", 11, "LIKE needs a quoted pattern"),
            ("GJ BETWEEN 1 OR 2", 14, "expected AND"),
            ("DLBM IN ()", 10, "expected a property name or a value"),
            ("DLMC IS NOT", 12, "expected NULL"),
            ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))", 32, "not closed"),
            ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 0 0)))", 32, "at least 4 positions"),
            ("S_INTERSECTS(geometry, POINT(1))", 31, "expected a number"),
            ("S_INTERSECTS(geometry POINT(1 2))", 23, "expected ','"),
            ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", 37, "BBOX needs 4 numbers"),
            ("S_INTERSECTS(geometry, CIRCLE(1 2))", 24, "unknown geometry type CIRCLE"),
            ("d > DATE('2024-13')", 10, "is not a date"),
            ("upper(DLBM) = 'A'", 1, "unknown function upper()"),
            ("DLBM = '0101'; DROP TABLE x", 14, "unexpected character ';'"),
            ("DLBM = '0101' /* comment */", 16, "expected a property name or a value, found '*'"),
            ("1abc = 2", 2, "separate them"),
            ("\"\" = 1", 1, "quoted property name"),
            ("DLBM = #", 8, "unexpected character"),
            ("GJ + * 2 = 1", 6, "found '*'"),
            ("(GJ + 1 > 2", 12, "expected ')'"),
            ("(GJ = 1) + 1 = 2", 10, "expected AND, OR or ')' after the group, found '+'"),
            ("CASEI(DLBM = 'a'", 12, "expected ')' closing CASEI"),
            ("DLBM LIKE GJ", 11, "LIKE needs a quoted pattern"),
            ("DLBM LIKE CASEI(DLBM)", 11, "LIKE needs a quoted pattern"),
            ("GJ div = 1", 8, "found '='"),
            ("div = 1", 1, "found DIV")
        ] as [(String, Int, String)])
    func malformedFiltersPointAtTheProblem(_ filter: String, _ position: Int, _ message: String) throws {
        do {
            let e = try parse(filter)
            Issue.record("parsed '\(filter)' as \(e)")
        } catch let e as CQL2SyntaxError {
            #expect(e.position == position, "\(filter): \(e)")
            #expect(e.message.contains(message), "\(filter): \(e)")
        }
    }

    @Test func injectionStringsAreOnlyValues() throws {
        // A quote closed and reopened is an escaped quote inside one string value, never SQL.
        #expect(try parse("DLBM = '0101'' OR ''1''=''1'") == .compare(.equal, .property("DLBM"), .string("0101' OR '1'='1")))
        #expect(throws: CQL2SyntaxError.self) { try parse("\"DLBM\"\"; DROP TABLE x; --\" = 1") }
        #expect(throws: CQL2SyntaxError.self) { try parse("DLBM = '1' UNION SELECT * FROM onemap_layers") }
        #expect(throws: CQL2SyntaxError.self) { try parse("DLBM = 1; DELETE FROM onemap_checks") }
    }

    @Test func hostileSizesAreRefused() throws {
        let deep = String(repeating: "(", count: 500) + "a = 1" + String(repeating: ")", count: 500)
        #expect(throws: CQL2SyntaxError.self) { try parse(deep) }
        let nots = String(repeating: "NOT ", count: 500) + "a = 1"
        #expect(throws: CQL2SyntaxError.self) { try parse(nots) }
        let long = "a = '" + String(repeating: "x", count: CQL2Parser.maxLength) + "'"
        #expect(throws: CQL2SyntaxError.self) { try parse(long) }
        // Within the bounds, nesting is fine.
        _ = try parse(String(repeating: "(", count: 30) + "a = 1" + String(repeating: ")", count: 30))
    }

    @Test func likePatternsBecomeCaseSensitiveGlobs() {
        #expect(FilterSQL.glob("01%") == "01*")
        #expect(FilterSQL.glob("0_01") == "0?01")
        #expect(FilterSQL.glob("100\\%") == "100%")
        #expect(FilterSQL.glob("a*b?[c]") == "a[*]b[?][[]c]")
        #expect(FilterSQL.glob("x\\_y") == "x_y")
    }
}
