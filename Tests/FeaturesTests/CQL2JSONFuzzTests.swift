import Foundation
import FuzzSupport
import GRDB
import Testing

@testable import Features

/// Mutated cql2-json filters: each one parses, or fails with a CQL2SyntaxError whose position
/// is inside the text; each parsed one becomes SQL with every value bound, or a 400. Never a
/// crash, a hang or another kind of error.
struct CQL2JSONFuzzTests {
    static let seed = ProcessInfo.processInfo.environment["ONEMAP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x00C0_FFEE_2022
    static let cases = 4_000

    static let corpus = [
        #"{"op": "and", "args": [{"op": "=", "args": [{"property": "DLBM"}, "0101"]}, {"op": "<", "args": [{"op": "+", "args": [{"property": "GJ"}, 1]}, 5]}]}"#,
        #"{"op": "or", "args": [{"op": "like", "args": [{"op": "casei", "args": [{"property": "DLMC"}]}, {"op": "casei", "args": ["水%"]}]}, {"op": "isNull", "args": [{"property": "DLMC"}]}]}"#,
        #"{"op": "not", "args": [{"op": "between", "args": [{"op": "div", "args": [{"property": "TBMJ"}, 7]}, {"op": "^", "args": [2, 3]}, 100.5]}]}"#,
        #"{"op": "in", "args": [{"op": "accenti", "args": [{"property": "BSM"}]}, ["P00", "Crème", "\u00e9"]]}"#,
        #"{"op": "s_touches", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[120, 28], [120.01, 28], [120.01, 28.01], [120, 28]]]}]}"#,
        #"{"op": "s_crosses", "args": [{"type": "LineString", "coordinates": [[120, 28], [120.01, 28.01]]}, {"property": "geometry"}]}"#,
        #"{"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [119.9, 27.9, 120.1, 28.1]}]}"#,
        #"{"op": ">=", "args": [{"op": "%", "args": [{"property": "TBMJ"}, {"op": "-", "args": [{"property": "GJ"}, 3]}]}, {"op": "/", "args": [1, 0]}]}"#,
        #"{"op": "s_overlaps", "args": [{"property": "geometry"}, {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [120, 28]}, {"type": "MultiPoint", "coordinates": [[120, 28], [121, 29]]}]}]}"#,
        "true"
    ]

    static let dictionary = [
        "{", "}", "[", "]", "\"", ":", ",", "\\", "\\u", "\\ud83d", "null", "true", "false", "-", "1e999", "0.5", "01",
        #""op""#, #""args""#, #""property""#, #""bbox""#, #""type""#, #""date""#, #""interval""#, #"{"op": "not", "args": ["#,
        #"{"property": "geometry"}"#, #"{"property": "NOPE"}"#, #""s_equals""#, #""casei""#, #""like""#, #""+""#, "丽水", "\u{0}", "\n",
        String(repeating: "[", count: 300)
    ]

    /// JSON values that fit where any other value stood, so the filter stays JSON and the
    /// parser's checks of meaning are reached, not only those of syntax.
    static let values = [
        "1", "-2.5e3", "0", "\"x\"", "\"\"", "null", "true", "false", "[]", "[1, \"a\"]", "{}", #"{"property": "GJ"}"#,
        #"{"property": "DLBM"}"#, #"{"property": "geometry"}"#, #"{"property": "NOPE"}"#, #"{"property": 3}"#, #"{"date": "2024-01-31"}"#,
        #"{"timestamp": "2024-01-31T00:00:00Z"}"#, #"{"interval": ["..", ".."]}"#, #"{"bbox": [1, 2, 3, 4]}"#, #"{"bbox": [3, 2, 1]}"#,
        #"{"type": "Point", "coordinates": [120, 28]}"#, #"{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}"#,
        #"{"type": "Feature", "coordinates": []}"#, #"{"op": "casei", "args": [{"property": "GJ"}]}"#, #"{"op": "-", "args": [1]}"#,
        #"{"op": "=", "args": [1, 1]}"#, #"{"op": "s_equals", "args": [{"property": "geometry"}, {"property": "geometry"}]}"#,
        #""s_disjoint""#, #""isNull""#, #""div""#, #""not""#, #""t_during""#
    ]

    /// Replaces one string or number of `s` with one of `values`.
    static func swapValue(_ s: String, _ r: inout FuzzRandom) -> String {
        let tokens = s.ranges(of: /"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*/)
        guard !tokens.isEmpty else { return s }
        var out = s
        out.replaceSubrange(r.pick(tokens), with: r.pick(values))
        return out
    }

    static func mutate(_ s: String, _ r: inout FuzzRandom) -> String {
        if r.chance(0.6) {
            var out = s
            for _ in 0..<r.int(1...3) { out = swapValue(out, &r) }
            return out
        }
        var c = Array(s)
        for _ in 0..<r.int(1...4) {
            let at = c.isEmpty ? 0 : r.int(0...c.count)
            switch r.int(0..<6) {
            case 0, 1: c.insert(contentsOf: Array(r.pick(dictionary)), at: at)
            case 2: if !c.isEmpty { let i = r.int(0..<c.count); c.removeSubrange(i..<min(c.count, i + r.int(1...6))) }
            case 3: if at < c.count { c.removeSubrange(at...) }
            case 4:
                if !c.isEmpty {
                    let i = r.int(0..<c.count); let chunk = c[i..<min(c.count, i + r.int(1...40))]; c.insert(contentsOf: chunk, at: at)
                }
            default: if !c.isEmpty { c[r.int(0..<c.count)] = r.pick(Array("{}[]\":,0123456789.-etrufalsn ")) }
            }
        }
        return String(c)
    }

    @Test func cql2JSONNeverCrashesAndErrorsSayWhere() throws {
        let fixtures = try sharedFixtures.get()
        let layer = try fixtures.store.pool.read { db in try FeatureCatalog(store: fixtures.store).layer("parcels", db) }
        var r = FuzzRandom(seed: Self.seed)
        var parsed = 0, translated = 0, syntaxErrors = 0, failures: [String] = []
        for index in 0..<Self.cases {
            let text = index < Self.corpus.count ? Self.corpus[index] : Self.mutate(r.pick(Self.corpus), &r)
            func fail(_ problem: String) {
                if failures.count < 12 {
                    failures.append("cql2-json case \(index) (seed \(Self.seed)): \(problem)\n  filter: \(text.prefix(300))")
                }
            }
            let written: CQL2Filter
            do {
                written = try CQL2JSONParser.parseFilter(text)
                parsed += 1
            } catch let e as CQL2SyntaxError {
                syntaxErrors += 1
                if !(1...(text.count + 1)).contains(e.position) {
                    fail("error position \(e.position) is outside 1...\(text.count + 1): \(e)")
                }
                if e.message.count < 10 { fail("the message says too little: \(e)") }
                if index < Self.corpus.count { fail("a corpus filter did not parse: \(e)") }
                continue
            } catch {
                fail("threw \(type(of: error)) instead of a CQL2SyntaxError: \(error)")
                continue
            }
            var sql = FilterSQL(layer: layer, crs: .default, tests: [], written: written)
            do {
                let fragment = try sql.translate(written.expression)
                translated += 1
                if fragment.sql.filter({ $0 == "?" }).count != fragment.arguments.count {
                    fail("placeholders and arguments differ: \(fragment.sql)")
                }
                if fragment.sql.contains("'") { fail("a literal reached the SQL text: \(fragment.sql)") }
            } catch let e as FeatureError {
                if e.status != 400 || !e.description.hasPrefix("filter: ") { fail("translation failed with \(e.status) \(e.description)") }
            } catch {
                fail("translation threw \(type(of: error)): \(error)")
            }
        }
        print("fuzz cql2-json: \(Self.cases) cases, \(parsed) parsed (\(translated) translated to SQL), \(syntaxErrors) syntax errors")
        for f in failures { Issue.record(Comment(rawValue: f)) }
        #expect(parsed > Self.cases / 20 && syntaxErrors > Self.cases / 4 && translated > Self.cases / 40, "the cases reach every outcome")
    }
}
