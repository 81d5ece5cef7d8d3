import Testing

@testable import LandUse

/// The compiled-in table: every code of the 三调 classification with its class and group, as
/// the sources in its header give them.
struct LandClassificationTests {
    let table = LandClassification.standard

    @Test func everyClassAndCodeIsThere() {
        #expect(table.classes.count == 13)
        #expect(table.classes["00"] == "湿地" && table.classes["01"] == "耕地" && table.classes["12"] == "其他土地")
        #expect(table.codes.count == 68)
        for land in table.codes.values {
            #expect(table.classes[land.classCode] != nil, "\(land.code)")
            // A code starts with its GB/T 一级类, except the wetland codes 三调 moves under 00.
            #expect(land.code.hasPrefix(land.classCode) || land.classCode == "00", "\(land.code) under \(land.classCode)")
        }
    }

    /// The groups the issue names, and the ones a reviewer argues about.
    @Test func groupsFollowTheLandAdministrationLaw() throws {
        let expected: [String: LandGroup] = [
            "0101": .agricultural, "0102": .agricultural, "0103": .agricultural, "1006": .agricultural,
            "1103": .agricultural, "1104": .agricultural, "1104A": .agricultural, "1107": .agricultural,
            "1202": .agricultural, "1203": .agricultural, "0301K": .agricultural, "0402": .agricultural,
            "1109": .construction, "1201": .construction, "0603": .construction, "05H1": .construction,
            "08H2": .construction, "0810A": .construction, "09": .construction, "1003": .construction,
            "0404": .unused, "1101": .unused, "1102": .unused, "1106": .unused, "1108": .unused, "1207": .unused
        ]
        for (code, group) in expected {
            #expect(try #require(table.code(code), "\(code)").group == group, "\(code)")
        }
        #expect(table.code("0101")?.name == "水田" && table.code("0303")?.classCode == "00")
        #expect(table.code("0105") == nil && table.code("011") == nil)
    }

    @Test func patternsNameCodes() {
        #expect(table.codes(matching: "01*").map(\.code) == ["0101", "0102", "0103"])
        #expect(table.codes(matching: "0201*").map(\.code) == ["0201", "0201K"])
        #expect(table.codes(matching: "1203").map(\.code) == ["1203"])
        #expect(table.codes(matching: "99*").isEmpty)
    }

    @Test func aBadTableSaysWhatIsWrong() {
        #expect(throws: LandClassification.FormatError.self) {
            try LandClassification(yaml: "classes: {\"01\": 耕地}\ncodes: {\"0101\": [水田, \"02\", 农用地]}")
        }
        do {
            _ = try LandClassification(yaml: "classes: {\"01\": 耕地}\ncodes: {\"0101\": [水田, \"01\", 耕用地]}")
            Issue.record("an unknown group was accepted")
        } catch {
            #expect("\(error)".contains("0101") && "\(error)".contains("耕用地"))
        }
    }

    /// Codes are read without the blanks around them, full-width ones too; plain codes as they are.
    @Test func codesAreTrimmedOfBlanks() {
        for (given, wanted) in [
            ("0101", "0101"), (" 0101", "0101"), ("0101\t", "0101"), ("0101\u{3000}", "0101"), ("\u{3000}1203 ", "1203"),
            ("", ""), ("  ", ""), ("05H1", "05H1"), ("0 1", "0 1")
        ] {
            #expect(LandCode.trimmed(given) == wanted, "'\(given)'")
        }
    }
}
