import Testing

@testable import LandUse

/// The net-area arithmetic: a 图斑's deduction (田坎) counts under its own code, nets add up to
/// the site's area, and classes and groups sum their codes.
struct LandUseTallyTests {
    let tally = LandUseTally()

    func area(_ list: [LandUseTally.Area], _ code: String) -> LandUseTally.Area? { list.first { $0.code == code } }

    @Test func aPaddyWithTerracesIsSplitIntoPaddyAndTerraces() throws {
        // 1,000 m² of 水田 with KCXS 0.08: 920 m² 水田 and 80 m² 田坎 net; 1,000 m² gross of 水田.
        let s = try tally.summary([.init(code: "0101", deductCode: "1203", deductRatio: 0.08, grossM2: 1000)])
        #expect(s.areaM2 == 1000)
        let paddy = try #require(area(s.byCode, "0101")), terraces = try #require(area(s.byCode, "1203"))
        #expect(paddy.grossM2 == 1000 && abs(paddy.netM2 - 920) < 1e-9 && paddy.name == "水田")
        #expect(terraces.grossM2 == 0 && abs(terraces.netM2 - 80) < 1e-9)
        #expect(abs(try #require(area(s.byClass, "01")).netM2 - 920) < 1e-9)
        #expect(abs(try #require(area(s.byClass, "12")).netM2 - 80) < 1e-9)
        // Both are 农用地.
        #expect(abs((s.byGroup["农用地"] ?? 0) - 1000) < 1e-9 && s.byGroup["建设用地"] == 0 && s.byGroup["未利用地"] == 0)
    }

    @Test func netsAddUpToTheSiteAndGroupsSplitIt() throws {
        let pieces: [LandUseTally.Piece] = [
            .init(code: "0101", deductRatio: 0.1, grossM2: 500),  // no KCDLBM: 田坎
            .init(code: "0103", deductCode: "1203", deductRatio: 0.15, grossM2: 300),
            .init(code: "0702", grossM2: 200),
            .init(code: "1101", grossM2: 100),
            .init(code: "0101", deductCode: "1203", deductRatio: 0.05, grossM2: 250),
            .init(code: "1203", grossM2: 10)
        ]
        let s = try tally.summary(pieces)
        #expect(abs(s.areaM2 - 1360) < 1e-9)
        #expect(abs(s.byCode.reduce(0) { $0 + $1.netM2 } - s.areaM2) < 1e-9)
        #expect(abs(s.byClass.reduce(0) { $0 + $1.netM2 } - s.areaM2) < 1e-9)
        #expect(abs(s.byGroup.values.reduce(0, +) - s.areaM2) < 1e-9)
        let paddy = try #require(area(s.byCode, "0101"))
        #expect(paddy.grossM2 == 750 && abs(paddy.netM2 - (450 + 237.5)) < 1e-9)
        let terraces = try #require(area(s.byCode, "1203"))
        #expect(terraces.grossM2 == 10 && abs(terraces.netM2 - (10 + 50 + 45 + 12.5)) < 1e-9)
        #expect(abs(try #require(area(s.byClass, "01")).grossM2 - 1050) < 1e-9)
        #expect(abs((s.byGroup["建设用地"] ?? 0) - 200) < 1e-9 && abs((s.byGroup["未利用地"] ?? 0) - 100) < 1e-9)
        #expect(s.byCode.map(\.code) == ["0101", "0103", "0702", "1101", "1203"])
    }

    @Test func theOrderOfPiecesDoesNotChangeADigit() throws {
        let pieces = (0..<200).map { i in
            LandUseTally.Piece(code: ["0101", "0301", "0702"][i % 3], deductRatio: i % 3 == 0 ? 0.0731 : 0, grossM2: 0.1 * Double(i) + 1e-7)
        }
        #expect(try tally.summary(pieces) == (try tally.summary(pieces.reversed())))
    }

    @Test func anUnknownCodeIsNamed() {
        #expect(throws: LandUseTally.UnknownCode(code: "0199")) { try tally.summary([.init(code: "0199", grossM2: 1)]) }
        do {
            _ = try tally.summary([.init(code: "0101", deductCode: "9999", deductRatio: 0.1, grossM2: 1)])
            Issue.record("an unknown deduction code was accepted")
        } catch {
            #expect("\(error)".contains("9999"))
        }
    }
}
