import Foundation
import FuzzSupport
import GeoCore
import LayerStore
import Testing

@testable import Conflicts

/// The answer's JSON is written by hand for speed; it must stay byte for byte what
/// JSONEncoder (sorted keys, slashes unescaped) gives, which the API promised and which
/// stored records hold.
struct CheckResultJSONTests {
    static func encoded(_ r: CheckResult) throws -> String { String(decoding: try CheckResult.encoder().encode(r), as: UTF8.self) }
    static func written(_ r: CheckResult) throws -> String { String(decoding: try r.json(), as: UTF8.self) }

    /// Strings that need escaping, or look as if they might: quotes, backslashes, every
    /// control character, slashes, DEL, line separators, CJK, emoji, combining marks.
    static let oddStrings: [String] = [
        "", "a/b", "q\"b", "back\\slash", "\u{0}\u{1}\u{7}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F}", "\u{7F}",
        "\u{2028}\u{2029}", "永久基本农田", "😀🇨🇳", "e\u{301}", "é", "\u{FEFF}bom", "</script>", "tab\tend", "\\u0041"
    ]
    static let oddNumbers: [Double] = [
        0, -0.0, 1, -1, 0.1, 1.5, 1e-7, 2.5e-5, 1e15, 1e16, 1e20, 1e21, 123456789.123, .leastNonzeroMagnitude, .leastNormalMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1_000_000, 9_007_199_254_740_992, 666.6666666666666, 1.0000000000000002
    ]

    static func randomString(_ r: inout FuzzRandom) -> String {
        if r.chance(0.4) { return r.pick(oddStrings) }
        let pieces = ["a", "Z", "_", "-", " ", "0", "9", "地类", "图斑", "\"", "\\", "/", "\n", "\u{1}", "😀", "é", "e\u{301}", "Ω"]
        return (0..<r.int(0...6)).map { _ in r.pick(pieces) }.joined()
    }

    static func randomNumber(_ r: inout FuzzRandom) -> Double {
        switch r.int(0..<4) {
        case 0: return r.pick(oddNumbers)
        case 1: return r.double(-1e6...1e6)
        case 2: return Double(r.int(-100_000...100_000))
        default: return r.double(0...1) * pow(10, Double(r.int(-12...22)))
        }
    }

    static func randomValue(_ r: inout FuzzRandom) -> AttributeValue {
        switch r.int(0..<4) {
        case 0: return .null
        case 1: return .integer(r.chance(0.1) ? r.pick([Int64.min, Int64.max, 0, -1]) : Int64(r.int(-1_000_000...1_000_000)))
        case 2: return .real(randomNumber(&r))
        default: return .text(randomString(&r))
        }
    }

    static func randomResult(_ r: inout FuzzRandom) -> CheckResult {
        let severities: [Severity?] = [nil, .notice, .restricted, .forbidden]
        let layers = (0..<r.int(0...4)).map { _ -> CheckResult.LayerConflict in
            // Field names as layers have them: ASCII, CJK, mixed case, digits, odd characters.
            let names = Array(
                Set(
                    (0..<r.int(0...7)).map { _ in
                        r.chance(0.5) ? r.pick(["BSM", "DLMC", "TBMJ", "bsm", "a10", "a9", "_x", "中", "ä", "Z"]) : randomString(&r)
                    }))
            // Most layers' features are copies of one dictionary, as a check reads them
            // (`LayerFields`): the same names in the same order, which the writer relies on.
            let shared = r.chance(0.5)
            let template = Dictionary(uniqueKeysWithValues: names.map { ($0, AttributeValue.null) })
            let features = (0..<r.int(0...12)).map { _ in
                var properties: [String: AttributeValue]
                if shared && !r.chance(0.1) {
                    properties = template
                    for name in names { properties[name] = randomValue(&r) }
                } else {
                    properties = Dictionary(uniqueKeysWithValues: names.filter { _ in r.chance(0.9) }.map { ($0, randomValue(&r)) })
                }
                return CheckResult.FeatureConflict(
                    id: randomString(&r), severity: r.pick(severities), overlapAreaM2: randomNumber(&r),
                    minDistanceM: r.chance(0.3) ? randomNumber(&r) : nil, lengthM: r.chance(0.3) ? randomNumber(&r) : nil,
                    properties: properties)
            }
            return CheckResult.LayerConflict(
                layer: randomString(&r), title: randomString(&r), version: r.chance(0.8) ? r.int(0...1000) : nil,
                versionLabel: r.chance(0.8) ? randomString(&r) : nil, severity: r.pick([.notice, .restricted, .forbidden]),
                conflict: r.chance(0.5), overlapAreaM2: randomNumber(&r), overlapRatio: randomNumber(&r),
                outsideAreaM2: r.chance(0.3) ? randomNumber(&r) : nil, features: features)
        }
        var result = CheckResult(
            verdict: r.pick([.forbidden, .restricted, .notice, .clear]),
            site: .init(
                areaM2: randomNumber(&r), areaMu: randomNumber(&r), areaHa: randomNumber(&r),
                bbox: (0..<r.int(0...4)).map { _ in randomNumber(&r) }),
            layers: layers, warnings: (0..<r.int(0...3)).map { _ in randomString(&r) })
        if r.chance(0.7) { result.id = randomString(&r) }
        if r.chance(0.7) { result.createdAt = randomString(&r) }
        if r.chance(0.5) { result.projectCode = randomString(&r) }
        if r.chance(0.5) { result.projectName = randomString(&r) }
        return result
    }

    @Test func randomAnswersAreWrittenAsJSONEncoderWritesThem() throws {
        var r = FuzzRandom(seed: 20)
        for i in 0..<3_000 {
            let result = Self.randomResult(&r)
            let (expected, got) = (try Self.encoded(result), try Self.written(result))
            #expect(got == expected, "case \(i)")
            if got != expected { return }
        }
    }

    @Test func oddStringsAndNumbersOneByOne() throws {
        for s in Self.oddStrings {
            let f = CheckResult.FeatureConflict(
                id: s, severity: .forbidden, overlapAreaM2: 1, minDistanceM: nil, lengthM: nil,
                properties: [s: .text(s), "k": .text(s)])
            let r = CheckResult(
                verdict: .clear, site: .init(areaM2: 1, areaMu: 1, areaHa: 1, bbox: []),
                layers: [
                    .init(
                        layer: s, title: s, version: 1, versionLabel: s, severity: .notice, conflict: false,
                        overlapAreaM2: 0, overlapRatio: 0, outsideAreaM2: nil, features: [f])
                ], warnings: [s])
            #expect(try Self.written(r) == Self.encoded(r), "\(s.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        for x in Self.oddNumbers {
            let r = CheckResult(
                verdict: .clear, site: .init(areaM2: x, areaMu: -x, areaHa: x / 3, bbox: [x, x / 7, x / 10, -x]),
                layers: [], warnings: [])
            #expect(try Self.written(r) == Self.encoded(r), "\(x)")
        }
    }

    /// JSONEncoder refuses NaN and infinities; so does the writer, rather than writing bad JSON.
    @Test func numbersThatAreNotFiniteAreRefused() throws {
        for x in [Double.nan, .infinity, -.infinity] {
            let f = CheckResult.FeatureConflict(
                id: "a", severity: nil, overlapAreaM2: 0, minDistanceM: nil, lengthM: nil, properties: ["v": .real(x)])
            let r = CheckResult(
                verdict: .clear, site: .init(areaM2: 1, areaMu: 1, areaHa: 1, bbox: []),
                layers: [
                    .init(
                        layer: "l", title: "t", version: nil, versionLabel: nil, severity: .notice, conflict: false,
                        overlapAreaM2: 0, overlapRatio: 0, outsideAreaM2: nil, features: [f])
                ], warnings: [])
            #expect(throws: (any Error).self) { try CheckResult.encoder().encode(r) }
            #expect(throws: (any Error).self) { try r.json() }
        }
    }

    /// Real answers from the engine: every rule kind, conflicts and clear sites.
    @Test func checkedAnswersAreWrittenAsJSONEncoderWritesThem() throws {
        let f = try ConflictFixtures()
        try f.layer(
            "farmland", rule: Rule(severity: .forbidden, message: "m"),
            fields: ["DLMC"],
            (0..<40).map { i in
                let x = 120 + Double(i % 8) * 0.001, y = 28 + Double(i / 8) * 0.001
                return ("F\(i)", .polygon(ConflictFixtures.box(x, y, x + 0.0009, y + 0.0009)), [i % 3 == 0 ? "水田\"/\\" : "旱地"])
            })
        var r = FuzzRandom(seed: 7)
        for _ in 0..<60 {
            let x = 119.998 + r.double(0...0.01), y = 27.998 + r.double(0...0.006)
            let w = r.double(0.0002...0.006), h = r.double(0.0002...0.004)
            let result = try f.check([ConflictFixtures.box(x, y, x + w, y + h)])
            #expect(try Self.written(result) == Self.encoded(result))
        }
    }
}
