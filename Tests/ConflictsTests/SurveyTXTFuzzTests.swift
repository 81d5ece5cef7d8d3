import Foundation
import FuzzSupport
import GeoCore
import Testing
import VectorIO

@testable import Conflicts

// Fuzzing the 部标 TXT reader (see SiteParserFuzz for the harness and its settings).

extension SiteParserFuzz {
    // MARK: 部标 TXT

    static let txtDictionary: [[UInt8]] = [
        "[属性描述]\n", "[地块坐标]\n", ",@\n", "@", ",", "，", "\r\n", "\n", "带号=40\n", "带号=39\n", "带号=\n",
        "几度分带=6\n", "几度分带=3\n", "几度分带=0\n", "坐标系=1980西安坐标系\n", "坐标系=2000国家大地坐标系\n",
        "J1,1,3150012.345,40491234.567\n", "J1,0,3150012.345,40491234.567\n", "J1,2,3150012.345,40491234.567\n",
        "5,1.2031,1,示例地块,面,,工业用地,,@\n", "J1,1,1e300,4e307\n", "J1,1,nan,inf\n", "=", "[", "]"
    ].map { Array($0.utf8) }

    static func txtSite(_ r: inout FuzzRandom) -> String {
        let zone = r.chance(0.9) ? 40 : r.pick([13, 20, 23, 24, 25, 39, 41, 45, 46, 0, -1, 99999999999])
        let sixDegree = !r.chance(0.9)
        var lines = ["[属性描述]", "格式版本号=1.01版本", "坐标系=\(r.chance(0.95) ? "2000国家大地坐标系" : "1980西安坐标系")"]
        if r.chance(0.8) { lines.append("几度分带=\(sixDegree ? 6 : 3)") }
        if r.chance(0.8) { lines.append("带号=\(zone)") }
        lines.append("[地块坐标]")
        let prefix = r.chance(0.8) ? Double(zone) * 1_000_000 : 0
        for p in 0..<r.int(1...3) {
            let c = (prefix + r.double(440_000...520_000), r.double(3_100_000...3_200_000))
            let rings =
                [ring(&r, center: c, radius: r.double(5...800), n: r.int(3...10))]
                + (r.chance(0.2) ? [ring(&r, center: c, radius: 3, n: 4)] : [])
            let n = rings.reduce(0) { $0 + $1.count }
            lines.append("\(r.chance(0.9) ? n : r.int(0...99)),\(String(format: "%.4f", r.double(0...300))),P\(p),地块\(p),面,,工业用地,,@")
            for (ri, ring) in rings.enumerated() {
                // 点号,圈号,X (northing),Y (easting); the last point repeats the first.
                let points = ring.dropLast().enumerated().map { i, pt in "J\(i + 1),\(ri + 1),\(number(pt.1, &r)),\(number(pt.0, &r))" }
                lines += closed(points)
            }
        }
        return lines.joined(separator: r.chance(0.3) ? "\r\n" : "\n")
    }

    static func hostileTXT(_ r: inout FuzzRandom) -> [UInt8] {
        switch r.int(0..<4) {
        case 0:  // many points in one ring: past a small vertex limit, and long for the parser
            var s = "[属性描述]\n带号=40\n[地块坐标]\n9,1,1,a,面,,x,,@\n"
            for i in 0..<min(20_000, hostileSize(&r)) { s += "J\(i),1,\(3_150_000 + i % 100).5,40491234.5\n" }
            return Array(s.utf8)
        case 1: return Array(("[地块坐标]\n" + String(repeating: "1,", count: hostileSize(&r)) + "@\n").utf8)
        case 2: return Array(("[属性描述]\n" + String(repeating: "=", count: hostileSize(&r))).utf8)
        default:
            return Array(
                "[属性描述]\n带号=40\n[地块坐标]\n5,1,1,a,面,,x,,@\nJ1,1,\(r.pick(Mutator.interestingNumbers)),\(r.pick(Mutator.interestingNumbers))\nJ2,1,3150000,40490100\nJ3,1,3150100,40490100\nJ1,1,3150000,40490000\n"
                    .utf8)
        }
    }
}

struct SurveyTXTFuzzTests {
    typealias Fuzz = SiteParserFuzz

    @Test(.timeLimit(.minutes(10))) func surveyTXTNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.surveyTXTNeverCrashesAndErrorsSayWhereBody() }
    }

    func surveyTXTNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(25)
        var seedRandom = FuzzRandom(seed: FuzzConfig.seed)
        let corpus = Fuzz.sample(".txt") + (0..<20).map { _ in Array(Fuzz.txtSite(&seedRandom).utf8) }
        try #require(corpus.count >= 23, "the sample projects are the seeds")
        let mutator = Mutator(dictionary: Fuzz.txtDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz(
            "txt", tag: 3, count: count,
            make: { r in
                let input: [UInt8]
                switch r.int(0..<20) {
                case 0..<4: input = Array(Fuzz.txtSite(&r).utf8)
                case 4..<14: input = mutator.mutate(r.pick(corpus), &r)
                case 14: input = Fuzz.hostileTXT(&r)
                case 15, 16: input = mutator.mutate(TextEncoding.encode(Fuzz.txtSite(&r), to: "GBK") ?? [], &r)
                case 17: input = (0..<r.int(0...256)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
                default: input = (0..<r.int(1...30)).flatMap { _ in r.pick(Fuzz.txtDictionary) }
                }
                return (input, Fuzz.limits(&r))
            }, parsers: [{ input, limits in Fuzz.run { try SurveyTXT.read(Data(input), limits: limits) } }, Fuzz.sniffing])
        for f in ledger.failures { Issue.record(Comment(rawValue: f)) }
        #expect(ledger.cases == (FuzzConfig.only == nil ? count : 1))
        #expect(ledger.sites > 0 && ledger.errors > 0, "the cases reach both outcomes")
    }
}
