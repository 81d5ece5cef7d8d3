import Testing

@testable import LandUse

/// `--where` on the land-use side of an audit: codes as rules name them, 三大类 groups, `not`.
struct LandCodeFilterTests {
    @Test func codesGroupsAndNegation() throws {
        let arable = try LandCodeFilter("code 01*")
        #expect(arable.accepts("0101") && arable.accepts("0103") && !arable.accepts("0201") && !arable.accepts(nil))
        let notArable = try LandCodeFilter("code not 01*")
        #expect(!notArable.accepts("0102") && notArable.accepts("0301") && notArable.accepts("0199"), "an unknown code is not 耕地")
        let orchards = try LandCodeFilter("code 0201*, 1203")
        #expect(orchards.accepts("0201") && orchards.accepts("0201K") && orchards.accepts("1203") && !orchards.accepts("0202"))
        let built = try LandCodeFilter("group 建设用地")
        #expect(built.accepts("0702") && built.accepts("1109") && built.accepts("1201") && !built.accepts("1006") && !built.accepts("0404"))
        let notFarm = try LandCodeFilter("GROUP NOT 农用地")
        #expect(notFarm.accepts("1101") && notFarm.accepts("0702") && !notFarm.accepts("1203"))
    }

    @Test func badFiltersSayWhatIsWrong() {
        for (text, says) in [
            ("kode 01*", "expected 'code"), ("code", "expected 'code"), ("code not", "expected 'code"),
            ("code 09x", "no 地类编码 of the classification matches '09x'"), ("group 耕地", "'耕地' is not a 三大类")
        ] {
            #expect(throws: LandCodeFilter.SyntaxError.self) { try LandCodeFilter(text) }
            do { _ = try LandCodeFilter(text) } catch { #expect("\(error)".contains(says), "\(text): \(error)") }
        }
    }
}
