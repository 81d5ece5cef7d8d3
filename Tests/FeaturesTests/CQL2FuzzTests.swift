import Foundation
import FuzzSupport
import GRDB
import GeoCore
import Testing

@testable import Features

// Fuzzing the CQL2 text parser, and the translation of what it parses into SQL.
//
// Cases are filters from a grammar of CQL2 (every one must parse), those filters mutated at the
// character level (inserted keywords and punctuation, deletions, duplications, truncation,
// splicing, huge numbers, unclosed strings, deep nesting, non-UTF-8 bytes decoded as the HTTP
// layer decodes them), and random text. Each must parse, or fail with a `CQL2SyntaxError` at a
// character inside the filter; a parsed filter must translate to SQL or fail with a
// `FeatureError` naming the filter. Nothing may crash or hang.
//
// The environment is the one of Tests/ConflictsTests/SiteParserFuzz.swift: ONEMAP_FUZZ_CASES
// (total over the four parsers, default 100,000; CQL2 runs 25% of it), ONEMAP_FUZZ_SEED,
// ONEMAP_FUZZ_ONLY and ONEMAP_FUZZ_TRACE.

/// A grammar of valid CQL2 text over the fixture's queryables.
struct CQL2Grammar {
    static let textProperties = ["BSM", "DLBM", "DLMC", "\"DLMC\"", "\"BSM\""]
    static let numberProperties = ["TBMJ", "GJ", "\"TBMJ\""]
    static let otherProperties = ["地类名称", "_x", "a.b", "ns:name", "\"地类 名称\"", "x1"]

    static func string(_ r: inout FuzzRandom) -> String {
        let body = r.pick([
            "0101", "", "水田", "it's", "%", "_", "\\%", "a b", "';DROP TABLE onemap_checks;--", "1' OR '1'='1", "\\", "*?[", "丽水市莲都区"
        ])
        return "'\(body.replacingOccurrences(of: "'", with: "''"))'"
    }

    static func number(_ r: inout FuzzRandom) -> String {
        switch r.int(0..<6) {
        case 0: return String(r.int(-1000...1000))
        case 1: return String(format: "%.3f", r.double(-1e6...1e6))
        case 2: return "\(r.int(1...9)).\(r.int(0...99))e\(r.pick(["", "+", "-"]))\(r.int(0...300))"
        case 3: return ".\(r.int(0...999))"
        case 4: return "-\(r.int(0...99))"
        default: return "\(r.int(0...9_999_999_999))"
        }
    }

    static func value(_ r: inout FuzzRandom) -> String {
        switch r.int(0..<8) {
        case 0, 1: return string(&r)
        case 2, 3: return number(&r)
        case 4: return r.pick(["TRUE", "false", "True"])
        case 5: return "DATE('\(r.int(1900...2100))-\(String(format: "%02d", r.int(1...12)))-\(String(format: "%02d", r.int(1...28)))')"
        case 6: return "TIMESTAMP('2024-01-31T08:00:\(String(format: "%02d", r.int(0...59)))\(r.chance(0.5) ? ".123" : "")Z')"
        default: return property(&r)
        }
    }

    static func property(_ r: inout FuzzRandom) -> String {
        r.pick(textProperties + numberProperties + otherProperties)
    }

    static func position(_ r: inout FuzzRandom) -> String {
        "\(String(format: "%.5f", r.double(119.9...120.1))) \(String(format: "%.5f", r.double(27.9...28.1)))"
            + (r.chance(0.05) ? " 12.5" : "")
    }

    static func ring(_ r: inout FuzzRandom) -> String {
        let x = r.double(119.99...120.01), y = r.double(27.99...28.01), d = r.double(0.0001...0.01)
        let pts = [(x, y), (x + d, y), (x + d, y + d), (x, y + d)].prefix(r.int(3...4))
        return "(" + (Array(pts) + [(x, y)]).map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")"
    }

    static func geometry(_ r: inout FuzzRandom, depth: Int = 0) -> String {
        let z = r.chance(0.05) ? " Z" : ""
        switch r.int(0..<(depth == 0 ? 8 : 7)) {
        case 0: return "POINT\(z)(\(position(&r)))"
        case 1: return "LINESTRING(\(position(&r)), \(position(&r)))"
        case 2: return "POLYGON(\(ring(&r)))"
        case 3: return "MULTIPOINT(\(position(&r)), (\(position(&r))))"
        case 4: return "MULTILINESTRING((\(position(&r)), \(position(&r))))"
        case 5: return "MULTIPOLYGON((\(ring(&r))), (\(ring(&r))))"
        case 6 where depth < 2: return "GEOMETRYCOLLECTION(\(geometry(&r, depth: depth + 1)), \(geometry(&r, depth: depth + 1)))"
        case 6 where depth > 0, 7 where depth > 0: return "POINT(\(position(&r)))"
        default:
            let x = r.double(119...121), y = r.double(27...29)
            return "BBOX(\(x), \(y), \(x + r.double(0...1)), \(y + r.double(0...1)))"
        }
    }

    static func predicate(_ r: inout FuzzRandom, depth: Int) -> String {
        switch r.int(0..<12) {
        case 0, 1: return "\(property(&r)) \(r.pick(["=", "<>", "<", ">", "<=", ">="])) \(value(&r))"
        case 2: return "\(property(&r)) \(r.chance(0.3) ? "NOT " : "")LIKE \(string(&r))"
        case 3: return "\(property(&r)) \(r.chance(0.3) ? "not " : "")BETWEEN \(value(&r)) AND \(value(&r))"
        case 4:
            return "\(property(&r)) \(r.chance(0.3) ? "NOT " : "")IN (\((0..<r.int(1...5)).map { _ in value(&r) }.joined(separator: ", ")))"
        case 5: return "\(property(&r)) IS \(r.chance(0.5) ? "NOT " : "")NULL"
        case 6, 7:
            let op = r.pick(CQL2Spatial.allCases).rawValue
            let g = geometry(&r)
            return r.chance(0.8) ? "\(op)(geometry, \(g))" : "\(op.lowercased())(\(g), \"geometry\")"
        case 8: return r.pick(["TRUE", "FALSE"])
        case 9 where depth < 5: return "(\(expression(&r, depth: depth + 1)))"
        case 10 where depth < 5: return "NOT \(predicate(&r, depth: depth + 1))"
        default: return "\(value(&r)) = \(value(&r))"
        }
    }

    static func expression(_ r: inout FuzzRandom, depth: Int = 0) -> String {
        (0..<r.int(1...3)).map { _ in
            (0..<r.int(1...3)).map { _ in predicate(&r, depth: depth) }.joined(separator: r.pick([" AND ", " and ", "\tAND\n"]))
        }.joined(separator: r.pick([" OR ", " or "]))
    }
}

struct CQL2FuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed: UInt64 = environment["ONEMAP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_260_510
    static let total: Int = environment["ONEMAP_FUZZ_CASES"].flatMap { Int($0) } ?? 100_000
    static let only: Int? = environment["ONEMAP_FUZZ_ONLY"].flatMap { Int($0) }
    static let trace: String? = environment["ONEMAP_FUZZ_TRACE"]

    static let dictionary = [
        "(", ")", ",", "'", "\"", "''", "-", "+", "=", "<>", "<=", ">", " AND ", " OR ", " NOT ", " LIKE ", " BETWEEN ",
        " IN ", " IS ", " NULL ", "S_INTERSECTS(", "BBOX(", "POINT(", "POLYGON((", "EMPTY", " Z ", "DATE(", "TIMESTAMP(",
        "1e999", "-1e308", "NaN", "Infinity", "99999999999999999999999", ".", "e", "\\", "%", "_", "\u{0}", "\u{FFFD}",
        "\u{301}", "\u{202E}", "丽水", "\n", "\t", ";", "--", "/*", "geometry", "CASEI(", "ACCENTI(", "FOO(", ":"
    ]

    /// A case: a filter and the CRS its geometry literals are in.
    static func makeCase(_ r: inout FuzzRandom, corpus: [String]) -> (text: String, valid: Bool) {
        switch r.int(0..<20) {
        case 0..<5: return (CQL2Grammar.expression(&r), true)
        case 5..<15: return (mutate(r.chance(0.7) ? r.pick(corpus) : CQL2Grammar.expression(&r), &r), false)
        case 15, 16: return (hostile(&r), false)
        case 17:  // bytes, decoded the way the HTTP layer decodes a query (invalid UTF-8 becomes U+FFFD)
            return (String(decoding: (0..<r.int(0...128)).map { _ in UInt8(truncatingIfNeeded: r.next()) }, as: UTF8.self), false)
        default: return ((0..<r.int(1...30)).map { _ in r.pick(dictionary) }.joined(), false)
        }
    }

    static func hostile(_ r: inout FuzzRandom) -> String {
        let n = r.chance(0.04) ? r.pick([10_000, 100_000]) : r.pick([65, 100, 1_000, 3_000])
        switch r.int(0..<8) {
        case 0: return String(repeating: "(", count: n) + "a = 1" + String(repeating: ")", count: n)
        case 1: return String(repeating: "NOT ", count: n) + "a = 1"
        case 2: return "a IN (" + (0..<min(n, 30_000)).map(String.init).joined(separator: ",") + ")"
        case 3:
            return "S_INTERSECTS(geometry, " + String(repeating: "GEOMETRYCOLLECTION(", count: n) + "POINT(1 2)"
                + String(repeating: ")", count: n) + ")"
        case 4: return "S_INTERSECTS(geometry, LINESTRING(" + String(repeating: "120 28, ", count: min(n, 60_000) * 2) + "120 28))"
        case 5: return "a = '" + String(repeating: "x", count: n)
        case 6: return String(repeating: "a = 1 AND ", count: min(n, 15_000)) + "b = 2"
        default: return "a = " + String(repeating: "9", count: min(n, 400)) + (r.chance(0.5) ? "e999" : ".5")
        }
    }

    static func mutate(_ s: String, _ r: inout FuzzRandom) -> String {
        var c = Array(s)
        for _ in 0..<r.int(1...5) {
            let at = c.isEmpty ? 0 : r.int(0...c.count)
            switch r.int(0..<8) {
            case 0, 1: c.insert(contentsOf: Array(r.pick(dictionary)), at: at)
            case 2: if !c.isEmpty { let i = r.int(0..<c.count); c.removeSubrange(i..<min(c.count, i + r.int(1...8))) }
            case 3: if at < c.count { c.removeSubrange(at...) }
            case 4: if !c.isEmpty { c[r.int(0..<c.count)] = r.pick(Array("()',\"-=<> .e0123456789")) }
            case 5:
                if !c.isEmpty {
                    let i = r.int(0..<c.count); let chunk = c[i..<min(c.count, i + r.int(1...20))]; c.insert(contentsOf: chunk, at: at)
                }
            case 6:  // splice with another filter
                let other = Array(CQL2Grammar.expression(&r))
                c = Array(c[..<at]) + Array(other[(other.isEmpty ? 0 : r.int(0..<other.count))...])
            default: if !c.isEmpty { c[r.int(0..<c.count)] = Character(Unicode.Scalar(UInt8(truncatingIfNeeded: r.next() % 128))) }
            }
        }
        return String(c)
    }

    @Test(.timeLimit(.minutes(10))) func cql2NeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.cql2NeverCrashesAndErrorsSayWhereBody() }
    }

    func cql2NeverCrashesAndErrorsSayWhereBody() throws {
        let fixtures = try FeatureFixtures()
        let layer = try fixtures.store.pool.read { db in try FeatureCatalog(store: fixtures.store).layer("parcels", db) }
        let count = Self.total * 25 / 100
        var seedRandom = FuzzRandom(seed: Self.seed)
        let corpus = (0..<50).map { _ in CQL2Grammar.expression(&seedRandom) }
        let clock = ContinuousClock()
        let started = clock.now
        var ran = 0, parsed = 0, translated = 0, syntaxErrors = 0, filterErrors = 0, failures: [String] = []
        var slowest: (Duration, Int) = (.zero, -1)
        func fail(_ index: Int, _ text: String, _ problem: String) {
            guard failures.count < 12 else { return }
            failures.append(
                "cql2 case \(index) (ONEMAP_FUZZ_SEED=\(Self.seed) ONEMAP_FUZZ_ONLY=\(index)): \(problem)\n  filter: \(String(text.prefix(300)).debugDescription)\(text.count > 300 ? "… (\(text.count) characters)" : "")"
            )
        }
        for index in Self.only.map({ [$0] }) ?? Array(0..<count) {
            var r = FuzzRandom(seed: Self.seed ^ (4 &* 0xD6E8_FEB8_6659_FD93) ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            _ = r.next()
            let (text, valid) = Self.makeCase(&r, corpus: corpus)
            let crs = r.pick(FeatureCRS.supported)
            if let trace = Self.trace { _ = FileManager.default.createFile(atPath: "\(trace).cql2", contents: Data(text.utf8)) }
            let took = threadCPUTime {
                let expression: CQL2Expression
                do {
                    expression = try CQL2Parser.parse(text)
                    parsed += 1
                } catch let e as CQL2SyntaxError {
                    syntaxErrors += 1
                    if valid { fail(index, text, "a filter of the grammar did not parse: \(e)") }
                    // The position is a character of the filter, or just past its end.
                    if !(1...(text.count + 1)).contains(e.position) {
                        fail(index, text, "error position \(e.position) is outside 1...\(text.count + 1): \(e)")
                    }
                    if e.message.count < 10 { fail(index, text, "the message says too little: \(e)") }
                    return
                } catch {
                    fail(index, text, "threw \(type(of: error)) instead of a CQL2SyntaxError: \(error)")
                    return
                }
                var sql = FilterSQL(layer: layer, crs: crs, tests: [])
                do {
                    let fragment = try sql.translate(expression)
                    translated += 1
                    // Every value is bound: the SQL holds only quoted names of the layer's fields.
                    let placeholders = fragment.sql.filter { $0 == "?" }.count
                    if placeholders != fragment.arguments.count {
                        fail(index, text, "\(placeholders) placeholders for \(fragment.arguments.count) arguments: \(fragment.sql)")
                    }
                    if fragment.sql.contains("'") { fail(index, text, "a literal reached the SQL text: \(fragment.sql)") }
                } catch let e as FeatureError {
                    filterErrors += 1
                    if e.status != 400 || !e.description.hasPrefix("filter: ") {
                        fail(index, text, "translation failed with \(e.status) \(e.description)")
                    }
                } catch {
                    fail(index, text, "translation threw \(type(of: error)): \(error)")
                }
            }
            if took > slowest.0 { slowest = (took, index) }
            if took > .seconds(30) { fail(index, text, "took \(took): a hang") }
            ran += 1
        }
        print(
            "fuzz cql2: \(ran) cases in \(clock.now - started), \(parsed) parsed (\(translated) translated to SQL, \(filterErrors) refused for the layer), \(syntaxErrors) syntax errors, \(failures.count) failures; slowest case \(slowest.1) took \(slowest.0)"
        )
        for f in failures { Issue.record(Comment(rawValue: f)) }
        #expect(ran == (Self.only == nil ? count : 1))
        #expect(Self.only != nil || (parsed > count / 10 && syntaxErrors > count / 10 && translated > 0), "the cases reach every outcome")
    }
}
