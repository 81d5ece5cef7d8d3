import Foundation
import GeoCore
import FuzzSupport
import Testing
import VectorIO
@testable import Conflicts

// Fuzzing the site parsers: GeoJSON, WKT and the 部标 TXT (issue 10).
//
// Every case is an input made from a seeded generator: a valid seed (the sample projects, or a
// random site made by a grammar) mutated at the byte level (bit flips, inserted tokens, deleted or
// duplicated ranges, truncation, splicing two inputs, huge numbers, NaN, deep nesting, GBK and
// broken UTF-8), or random bytes. Each must give a site or a `SiteError` whose message says what
// is wrong and where; nothing may crash, hang, or throw anything else.
//
// Environment:
//   ONEMAP_FUZZ_CASES  total cases over the four parsers (default 100,000: GeoJSON 30%, WKT 20%,
//                      TXT 25% here, CQL2 25% in FeaturesTests/CQL2FuzzTests.swift)
//   ONEMAP_FUZZ_SEED   the generator's seed (default below); a failure names its seed and case
//   ONEMAP_FUZZ_ONLY   run only this case index (to reproduce one failure)
//   ONEMAP_FUZZ_TRACE  a path: each input is written to PATH.<parser> before it runs, to catch one that crashes

enum FuzzConfig {
    static let environment = ProcessInfo.processInfo.environment
    static let seed: UInt64 = environment["ONEMAP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_260_510
    static let totalCases: Int = environment["ONEMAP_FUZZ_CASES"].flatMap { Int($0) } ?? 100_000
    static let only: Int? = environment["ONEMAP_FUZZ_ONLY"].flatMap { Int($0) }
    static let trace: String? = environment["ONEMAP_FUZZ_TRACE"]

    /// The share of the total that one parser runs.
    static func cases(_ share: Int) -> Int { totalCases * share / 100 }

    /// The generator of one case: the same seed, parser and index give the same input.
    static func random(parser: UInt64, index: Int) -> FuzzRandom {
        var r = FuzzRandom(seed: seed ^ (parser &* 0xD6E8_FEB8_6659_FD93) ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        _ = r.next()
        return r
    }

    /// The repository, for the sample projects.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Byte-level mutations shared by the parsers; each parser brings its own dictionary of tokens.
struct Mutator {
    let dictionary: [[UInt8]]
    let corpus: [[UInt8]]

    static let interestingNumbers = ["0", "-0", "1e308", "-1e308", "1e309", "-1e999", "1.7976931348623157e308", "4.9e-324", "NaN", "nan",
                                     "Infinity", "-Infinity", "inf", "99999999999999999999999999999", "-9223372036854775809",
                                     "18446744073709551616", "1e-400", "0x10", "1_000", "١٢٣", "+1", "1.", ".5", "1e", "--1", "1e+",
                                     "40491234.567e20", "3150012.345e-5", "9.999999999999999e22", "2147483648", "-2147483649"]
    static let badBytes: [[UInt8]] = [[0xFF], [0xFE, 0xFF], [0xC0, 0xAF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                      [0x00], [0xEF, 0xBB, 0xBF], [0x1B], [0x7F], [0xE2, 0x80, 0xAE], [0xCC, 0x81], [0x0D], [0x0B],
                                      [0xB5, 0xD8, 0xBF, 0xE9]]

    func mutate(_ input: [UInt8], _ r: inout FuzzRandom) -> [UInt8] {
        var b = input
        for _ in 0..<r.int(1...6) { step(&b, &r) }
        return b
    }

    func position(_ b: [UInt8], _ r: inout FuzzRandom) -> Int { b.isEmpty ? 0 : r.int(0...b.count) }

    func step(_ b: inout [UInt8], _ r: inout FuzzRandom) {
        switch r.int(0..<13) {
        case 0:   // flip a bit
            if !b.isEmpty { let i = r.int(0..<b.count); b[i] ^= UInt8(1 << r.int(0..<8)) }
        case 1:   // a random byte
            if !b.isEmpty { b[r.int(0..<b.count)] = UInt8(truncatingIfNeeded: r.next()) }
        case 2, 3:   // a token of the format
            b.insert(contentsOf: r.pick(dictionary), at: position(b, &r))
        case 4:   // delete a range
            if !b.isEmpty { let i = r.int(0..<b.count); b.removeSubrange(i..<min(b.count, i + r.int(1...16))) }
        case 5:   // duplicate a range
            if !b.isEmpty {
                let i = r.int(0..<b.count), chunk = Array(b[i..<min(b.count, i + r.int(1...64))])
                for _ in 0..<r.int(1...4) { b.insert(contentsOf: chunk, at: position(b, &r)) }
            }
        case 6:   // truncate
            if !b.isEmpty { b.removeSubrange(r.int(0..<b.count)...) }
        case 7:   // splice with another input
            let other = r.pick(corpus)
            let cut = position(b, &r), from = other.isEmpty ? 0 : r.int(0..<other.count)
            b = Array(b[..<cut]) + Array(other[from...])
        case 8:   // replace a number with an interesting one
            replaceNumber(&b, &r)
        case 9:   // broken UTF-8, NUL, BOM, control characters
            b.insert(contentsOf: r.pick(Self.badBytes), at: position(b, &r))
        case 10:   // replace a byte by a structural character
            if !b.isEmpty { b[r.int(0..<b.count)] = r.pick(Array(",;()[]{}\"'=@:.-+eE \n\t".utf8)) }
        case 11:   // swap two ranges
            if b.count > 4 {
                let half = b.count / 2, i = r.int(0..<half), j = r.int(half..<b.count)
                let n = r.int(1...min(8, half - i, b.count - j))
                let a = Array(b[i..<i + n]), c = Array(b[j..<j + n])
                b.replaceSubrange(j..<j + n, with: a)
                b.replaceSubrange(i..<i + n, with: c)
            }
        default:   // repeat one line
            if let (start, end) = randomLine(b, &r) {
                let line = Array(b[start..<end])
                for _ in 0..<r.int(1...20) { b.insert(contentsOf: line, at: end) }
            }
        }
    }

    func randomLine(_ b: [UInt8], _ r: inout FuzzRandom) -> (Int, Int)? {
        guard !b.isEmpty else { return nil }
        var start = r.int(0..<b.count)
        while start > 0 && b[start - 1] != 0x0A { start -= 1 }
        var end = start
        while end < b.count && b[end] != 0x0A { end += 1 }
        if end < b.count { end += 1 }
        return end > start ? (start, end) : nil
    }

    func replaceNumber(_ b: inout [UInt8], _ r: inout FuzzRandom) {
        guard !b.isEmpty else { return }
        var i = r.int(0..<b.count)
        var tries = 0
        while tries < b.count, !(b[i] >= 0x30 && b[i] <= 0x39) { i = (i + 1) % b.count; tries += 1 }
        guard tries < b.count else { return }
        var start = i, end = i
        let numeric = Set(Array("0123456789.eE+-".utf8))
        while start > 0, numeric.contains(b[start - 1]) { start -= 1 }
        while end < b.count, numeric.contains(b[end]) { end += 1 }
        b.replaceSubrange(start..<end, with: Array(r.pick(Self.interestingNumbers).utf8))
    }
}

/// What a parser did with one input.
enum ParseOutcome {
    case site(Site)
    case error(SiteError)
    case other(Error)
}

/// Runs cases and keeps the counts, the failures and the slowest case.
final class FuzzLedger {
    let name: String
    var cases = 0
    var sites = 0
    var errors = 0
    var failures: [String] = []
    var slowest: (Duration, Int) = (.zero, -1)
    var errorKinds: [String: Int] = [:]
    var elapsed = Duration.zero

    init(_ name: String) { self.name = name }

    func record(index: Int, input: [UInt8], problem: String) {
        guard failures.count < 12 else { return }
        let file = NSTemporaryDirectory() + "onemap-fuzz-\(name)-\(FuzzConfig.seed)-\(index).bin"
        _ = FileManager.default.createFile(atPath: file, contents: Data(input))
        let shown = String(decoding: input.prefix(200), as: UTF8.self).debugDescription
        failures.append("\(name) case \(index) (ONEMAP_FUZZ_SEED=\(FuzzConfig.seed) ONEMAP_FUZZ_ONLY=\(index), input in \(file)): \(problem)\n  input: \(shown)\(input.count > 200 ? "… (\(input.count) bytes)" : "")")
    }

    /// A short, number-free form of an error, to see which errors the inputs reach.
    func kind(_ message: String) {
        let k = String(message.prefix(48)).replacingOccurrences(of: #"[0-9]+"#, with: "N", options: .regularExpression)
        errorKinds[k, default: 0] += 1
    }

    func summary() -> String {
        let top = errorKinds.sorted { $0.value > $1.value }.prefix(8).map { "    \($0.value)× \($0.key)" }.joined(separator: "\n")
        return "fuzz \(name): \(cases) cases in \(elapsed), \(sites) sites, \(errors) clear errors, \(failures.count) failures; slowest case \(slowest.1) took \(slowest.0)\n\(top)"
    }
}

struct SiteParserFuzz {
    /// A case using more processor time than this counts as a hang (the largest hostile
    /// inputs take seconds in a debug build).
    static let hangLimit = Duration.seconds(30)

    /// The message of a `SiteError` names what is wrong and where: a line, column, character, JSON
    /// path, key, point, ring, parcel or polygon, or it speaks of the input or site as a whole.
    static let whereWords = ["line ", "column ", "character ", "coordinates", "geometry", "features", "\"type\"", "crs", "point",
                             "ring", "parcel", "polygon", "POLYGON", "带号", "坐标系", "几度分带", "zone", "the input", "the site", "the TXT",
                             "the file", "the GeoJSON", "[地块坐标]", "vertices", "properties", "geometries", "CRS"]

    static func unclear(_ message: String) -> String? {
        if message.count < 12 { return "the message is too short to say what and where: \(message.debugDescription)" }
        if message.contains("The operation could not be completed") || message.contains("Error Domain=") {
            return "the message is a bare Foundation error: \(message.prefix(200))"
        }
        if !whereWords.contains(where: { message.contains($0) }) { return "the message does not say where: \(message.prefix(200))" }
        if message.utf8.count > 2_000 { return "the message is \(message.utf8.count) bytes long" }
        return nil
    }

    static func run(_ parse: () throws -> Site) -> ParseOutcome {
        do { return .site(try parse()) } catch let e as SiteError { return .error(e) } catch { return .other(error) }
    }

    /// Checks one outcome; returns what is wrong with it, if anything.
    static func judge(_ outcome: ParseOutcome, limits: SiteLimits, ledger: FuzzLedger) -> String? {
        switch outcome {
        case .site(let site):
            ledger.sites += 1
            guard site.areaM2.isFinite, site.areaM2 > 0.01 else { return "a site with area \(site.areaM2)" }
            let b = site.bbox
            guard b.minX >= -180, b.maxX <= 180, b.minY >= -90, b.maxY <= 90, b.minX <= b.maxX, b.minY <= b.maxY else {
                return "a site whose bbox \(b) is not lon/lat"
            }
            guard !site.geometry.polygons.isEmpty else { return "a site with no polygon" }
            do {
                let engine = GeometryEngine()
                if let reason = try engine.invalidityReason(try engine.make(site.geometry)) { return "an invalid site geometry: \(reason)" }
            } catch { return "the site geometry cannot be rebuilt: \(error)" }
            return nil
        case .error(let e):
            ledger.errors += 1
            ledger.kind(e.message)
            return unclear(e.message)
        case .other(let e):
            return "threw \(type(of: e)) instead of a SiteError: \(e)"
        }
    }

    /// Runs `count` cases made by `make`, each through `parsers`.
    static func fuzz(_ name: String, tag: UInt64, count: Int, make: (inout FuzzRandom) -> (input: [UInt8], limits: SiteLimits),
                     parsers: [( [UInt8], SiteLimits) -> ParseOutcome]) -> FuzzLedger {
        let ledger = FuzzLedger(name)
        let clock = ContinuousClock()
        let indices = FuzzConfig.only.map { [$0] } ?? Array(0..<count)
        let started = clock.now
        defer { ledger.elapsed = clock.now - started }
        for index in indices {
            var r = FuzzConfig.random(parser: tag, index: index)
            let (input, limits) = make(&r)
            if let trace = FuzzConfig.trace { _ = FileManager.default.createFile(atPath: "\(trace).\(name)", contents: Data(input)) }
            // The format's own reader always; the sniffing reader on every eighth case.
            let use = index % 8 == 0 ? parsers : [parsers[0]]
            for parse in use {
                var outcome = ParseOutcome.other(CancellationError())
                let took = threadCPUTime { outcome = parse(input, limits) }
                if took > ledger.slowest.0 { ledger.slowest = (took, index) }
                if took > hangLimit { ledger.record(index: index, input: input, problem: "took \(took): a hang") }
                if let problem = judge(outcome, limits: limits, ledger: ledger) { ledger.record(index: index, input: input, problem: problem) }
            }
            ledger.cases += 1
        }
        ledger.elapsed = clock.now - started
        print(ledger.summary())
        return ledger
    }

    static func sniffing(_ input: [UInt8], _ limits: SiteLimits) -> ParseOutcome {
        run { try SiteReader.read(Data(input), crs: nil, limits: limits).0 }
    }

    static func limits(_ r: inout FuzzRandom) -> SiteLimits {
        r.chance(0.1) ? SiteLimits(maxVertices: r.int(1...40)) : SiteLimits()
    }

    static func sample(_ ext: String) -> [[UInt8]] {
        let dir = FuzzConfig.repoRoot.appendingPathComponent("sampledata/projects")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(ext) }.sorted().compactMap { FileManager.default.contents(atPath: dir.appendingPathComponent($0).path) }.map { [UInt8]($0) }
    }

    // MARK: Random sites

    /// A ring of `n` points around a centre: in order (a simple polygon) or shuffled (self-intersecting).
    static func ring(_ r: inout FuzzRandom, center: (Double, Double), radius: Double, n: Int) -> [(Double, Double)] {
        var angles = (0..<n).map { _ in r.double(0...(2 * .pi)) }
        if r.chance(0.7) { angles.sort() }
        var pts = angles.map { a in (center.0 + radius * r.double(0.3...1) * cos(a), center.1 + radius * r.double(0.3...1) * sin(a)) }
        if r.chance(0.05), pts.count > 1 { pts[1] = pts[0] }   // a repeated point
        pts.append(pts[0])
        return pts
    }

    static func lishui(_ r: inout FuzzRandom) -> (Double, Double) {
        r.chance(0.9) ? (r.double(118.7...120.5), r.double(27.4...28.9)) : (r.double(-180...180), r.double(-90...90))
    }

    /// A ring's positions as written, closed by repeating the first as written.
    static func closed(_ written: [String]) -> [String] { written + written.prefix(1) }

    static func number(_ x: Double, _ r: inout FuzzRandom) -> String {
        r.chance(0.02) ? r.pick(Mutator.interestingNumbers) : String(format: "%.\(r.int(0...9))f", x)
    }

    // MARK: GeoJSON

    static let jsonDictionary: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "\"type\"", "\"Polygon\"",
                                            "\"MultiPolygon\"", "\"Feature\"", "\"FeatureCollection\"", "\"GeometryCollection\"",
                                            "\"coordinates\"", "\"geometry\"", "\"geometries\"", "\"features\"", "\"properties\"",
                                            "\"crs\"", "{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4528\"}}", "\"urn:ogc:def:crs:EPSG::4490\"",
                                            "\"\\u0000\"", "\"\\ud800\"", "\"\\\"", "1e999", "-0", "[[[[[[[[", "]]]]]]]]", "\"Point\"",
                                            "\"LineString\"", "[120,28]", "[[120,28],[120.001,28],[120.001,28.001],[120,28]]"].map { Array($0.utf8) }

    static func polygonJSON(_ r: inout FuzzRandom) -> String {
        let c = lishui(&r), radius = r.chance(0.1) ? r.double(1e-9...1e-6) : r.double(1e-4...2e-2)
        var rings = [ring(&r, center: c, radius: radius, n: r.int(3...14))]
        if r.chance(0.2) { rings.append(ring(&r, center: c, radius: radius * 0.3, n: r.int(3...6))) }
        if r.chance(0.05) { rings.append(ring(&r, center: (c.0 + radius * 3, c.1), radius: radius, n: 4)) }   // a hole outside
        return "[" + rings.map { "[" + closed($0.dropLast().map { "[\(number($0.0, &r)),\(number($0.1, &r))]" }).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }

    static func geometryJSON(_ r: inout FuzzRandom, depth: Int = 0) -> String {
        switch r.int(0..<10) {
        case 0..<5: return #"{"type":"Polygon","coordinates":\#(polygonJSON(&r))}"#
        case 5..<8: return #"{"type":"MultiPolygon","coordinates":[\#((0..<r.int(1...3)).map { _ in polygonJSON(&r) }.joined(separator: ","))]}"#
        case 8 where depth < 3:
            return #"{"type":"GeometryCollection","geometries":[\#((0..<r.int(0...3)).map { _ in geometryJSON(&r, depth: depth + 1) }.joined(separator: ","))]}"#
        default:
            let c = lishui(&r)
            return r.chance(0.5) ? #"{"type":"Point","coordinates":[\#(c.0),\#(c.1)]}"# : #"{"type":"LineString","coordinates":[[\#(c.0),\#(c.1)],[\#(c.0 + 0.01),\#(c.1)]]}"#
        }
    }

    static func propertiesJSON(_ r: inout FuzzRandom) -> String {
        r.pick([#"{}"#, "null", #"{"projectCode":"2026-331102-01","projectName":"某物流园","n":1.5,"x":[1,{"y":null}]}"#, #"{"名称":"丽水\u0000\n"}"#, "[]", "\"s\""])
    }

    static func geoJSONSite(_ r: inout FuzzRandom) -> String {
        let crs = r.chance(0.03) ? #","crs":{"type":"name","properties":{"name":"\#(r.pick(["EPSG:4490", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4528", "EPSG:99999", "+proj=longlat", "urn:ogc:def:crs:EPSG::4326", ""]))"}}"# : ""
        switch r.int(0..<3) {
        case 0: return String(geometryJSON(&r).dropLast()) + crs + "}"
        case 1: return #"{"type":"Feature","properties":\#(propertiesJSON(&r)),"geometry":\#(geometryJSON(&r))\#(crs)}"#
        default:
            let features = (0..<r.int(0...4)).map { _ in #"{"type":"Feature","properties":\#(propertiesJSON(&r)),"geometry":\#(geometryJSON(&r))}"# }
            return #"{"type":"FeatureCollection"\#(crs),"features":[\#(features.joined(separator: ","))]}"#
        }
    }

    /// How deep or long a hostile input is: mostly past the small bounds (64, 512), sometimes huge.
    static func hostileSize(_ r: inout FuzzRandom) -> Int {
        r.chance(0.04) ? r.pick([10_000, 100_000]) : r.pick([10, 65, 100, 513, 1_000, 3_000])
    }

    /// Inputs that stress the JSON reader itself.
    static func hostileJSON(_ r: inout FuzzRandom) -> [UInt8] {
        let depth = hostileSize(&r)
        switch r.int(0..<6) {
        case 0: return Array((#"{"type":"Polygon","coordinates":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: r.chance(0.5) ? depth : 0) + "}").utf8)
        case 1: return Array((String(repeating: #"{"type":"GeometryCollection","geometries":["#, count: min(depth, 2_000)) + String(repeating: "]}", count: min(depth, 2_000))).utf8)
        case 2: return Array((String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
        case 3: return Array(#"{"type":"Polygon","coordinates":[[[\#(r.pick(Mutator.interestingNumbers)),28],[120,\#(r.pick(Mutator.interestingNumbers))],[120.1,28.1],[\#(r.pick(Mutator.interestingNumbers)),28]]]}"#.utf8)
        case 4: return Array(#"{"type":"Polygon","coordinates":[[[120,28],[120.1,28],[120.1,28.1],[120,28]]],"x":"\#(String(repeating: "\\u00e9\\ud83d\\ude00", count: depth / 10))"}"#.utf8)
        default: return Array((#"{"type":"Polygon","coordinates":[["# + String(repeating: "[120.0001,28.0001],", count: hostileSize(&r) / 2) + "[120,28]]]}").utf8)
        }
    }

    static func geoJSONCase(_ r: inout FuzzRandom, corpus: [[UInt8]], mutator: Mutator) -> [UInt8] {
        switch r.int(0..<20) {
        case 0..<4: return Array(geoJSONSite(&r).utf8)
        case 4..<14: return mutator.mutate(r.chance(0.5) ? r.pick(corpus) : Array(geoJSONSite(&r).utf8), &r)
        case 14..<16: return hostileJSON(&r)
        case 16:   // GBK or UTF-16 text
            let text = String(decoding: r.pick(corpus), as: UTF8.self)
            return r.chance(0.5) ? (TextEncoding.encode(text, to: "GBK") ?? []) : Array(text.data(using: .utf16) ?? Data())
        case 17: return (0..<r.int(0...256)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
        default:   // random JSON-ish tokens
            return (0..<r.int(1...40)).flatMap { _ in r.pick(jsonDictionary) }
        }
    }

    // MARK: WKT

    static let wktDictionary: [[UInt8]] = ["(", ")", ",", " ", "POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "POINT", "LINESTRING",
                                           "EMPTY", " Z ", " M ", " ZM ", "SRID=4490;", "((", "))", "(((", ")))", "nan", "inf", "-",
                                           "1e400", "120 28", "0 0, 1 0, 1 1, 0 0", "TRIANGLE", "POLYHEDRALSURFACE", "CURVEPOLYGON"].map { Array($0.utf8) }

    static func wktRing(_ r: inout FuzzRandom, projected: Bool) -> String {
        let c = projected ? (r.double(40_440_000...40_520_000), r.double(3_100_000...3_200_000)) : lishui(&r)
        let radius = projected ? r.double(1...2_000) : r.double(1e-4...2e-2)
        return "(" + closed(ring(&r, center: c, radius: radius, n: r.int(3...12)).dropLast().map { "\(number($0.0, &r)) \(number($0.1, &r))" }).joined(separator: ", ") + ")"
    }

    static func wktPolygon(_ r: inout FuzzRandom, projected: Bool) -> String {
        "(" + (0..<r.int(1...2)).map { _ in wktRing(&r, projected: projected) }.joined(separator: ", ") + ")"
    }

    static func wktSite(_ r: inout FuzzRandom, projected: Bool, depth: Int = 0) -> String {
        switch r.int(0..<10) {
        case 0..<5: return "POLYGON " + wktPolygon(&r, projected: projected)
        case 5..<8: return "MULTIPOLYGON (" + (0..<r.int(1...3)).map { _ in wktPolygon(&r, projected: projected) }.joined(separator: ", ") + ")"
        case 8 where depth < 3: return "GEOMETRYCOLLECTION (" + (0..<r.int(1...3)).map { _ in wktSite(&r, projected: projected, depth: depth + 1) }.joined(separator: ", ") + ")"
        default: return r.pick(["POINT (120 28)", "LINESTRING (120 28, 121 29)", "POLYGON EMPTY", "MULTIPOLYGON EMPTY", "POLYGON Z ((120 28 1, 120.01 28 1, 120.01 28.01 1, 120 28 1))"])
        }
    }

    static func hostileWKT(_ r: inout FuzzRandom) -> [UInt8] {
        let depth = hostileSize(&r)
        switch r.int(0..<4) {
        case 0: return Array((String(repeating: "GEOMETRYCOLLECTION(", count: depth) + "POLYGON((120 28, 120.01 28, 120.01 28.01, 120 28))" + String(repeating: ")", count: depth)).utf8)
        case 1: return Array(("POLYGON" + String(repeating: "(", count: depth) + "120 28" + String(repeating: ")", count: depth)).utf8)
        case 2: return Array(("POLYGON((" + String(repeating: "120.0001 28.0001, ", count: hostileSize(&r) / 2) + "120 28))").utf8)
        default: return Array("POLYGON((\(r.pick(Mutator.interestingNumbers)) 28, 120.01 \(r.pick(Mutator.interestingNumbers)), 120.01 28.01, 120 28))".utf8)
        }
    }

    // MARK: 部标 TXT

    static let txtDictionary: [[UInt8]] = ["[属性描述]\n", "[地块坐标]\n", ",@\n", "@", ",", "，", "\r\n", "\n", "带号=40\n", "带号=39\n", "带号=\n",
                                           "几度分带=6\n", "几度分带=3\n", "几度分带=0\n", "坐标系=1980西安坐标系\n", "坐标系=2000国家大地坐标系\n",
                                           "J1,1,3150012.345,40491234.567\n", "J1,0,3150012.345,40491234.567\n", "J1,2,3150012.345,40491234.567\n",
                                           "5,1.2031,1,示例地块,面,,工业用地,,@\n", "J1,1,1e300,4e307\n", "J1,1,nan,inf\n", "=", "[", "]"].map { Array($0.utf8) }

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
            let rings = [ring(&r, center: c, radius: r.double(5...800), n: r.int(3...10))] + (r.chance(0.2) ? [ring(&r, center: c, radius: 3, n: 4)] : [])
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
        case 0:   // many points in one ring: past a small vertex limit, and long for the parser
            var s = "[属性描述]\n带号=40\n[地块坐标]\n9,1,1,a,面,,x,,@\n"
            for i in 0..<min(20_000, hostileSize(&r)) { s += "J\(i),1,\(3_150_000 + i % 100).5,40491234.5\n" }
            return Array(s.utf8)
        case 1: return Array(("[地块坐标]\n" + String(repeating: "1,", count: hostileSize(&r)) + "@\n").utf8)
        case 2: return Array(("[属性描述]\n" + String(repeating: "=", count: hostileSize(&r))).utf8)
        default: return Array("[属性描述]\n带号=40\n[地块坐标]\n5,1,1,a,面,,x,,@\nJ1,1,\(r.pick(Mutator.interestingNumbers)),\(r.pick(Mutator.interestingNumbers))\nJ2,1,3150000,40490100\nJ3,1,3150100,40490100\nJ1,1,3150000,40490000\n".utf8)
        }
    }
}

struct ParserFuzzTests {
    typealias Fuzz = SiteParserFuzz

    @Test(.timeLimit(.minutes(10))) func geoJSONNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.geoJSONNeverCrashesAndErrorsSayWhereBody() }
    }

    func geoJSONNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(30)
        let corpus = Fuzz.sample(".geojson")
        try #require(corpus.count >= 5, "the sample projects are the seeds")
        let mutator = Mutator(dictionary: Fuzz.jsonDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz("geojson", tag: 1, count: count, make: { r in
            (Fuzz.geoJSONCase(&r, corpus: corpus, mutator: mutator), Fuzz.limits(&r))
        }, parsers: [{ input, limits in Fuzz.run { try SiteReader.geoJSON(Data(input), limits: limits) } }, Fuzz.sniffing])
        for f in ledger.failures { Issue.record(Comment(rawValue: f)) }
        #expect(ledger.cases == (FuzzConfig.only == nil ? count : 1))
        #expect(ledger.sites > 0 && ledger.errors > 0, "the cases reach both outcomes")
    }

    @Test(.timeLimit(.minutes(10))) func wktNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.wktNeverCrashesAndErrorsSayWhereBody() }
    }

    func wktNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(20)
        var seedRandom = FuzzRandom(seed: FuzzConfig.seed)
        let corpus = (0..<40).map { i in Array(Fuzz.wktSite(&seedRandom, projected: i % 2 == 1).utf8) }
        let mutator = Mutator(dictionary: Fuzz.wktDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz("wkt", tag: 2, count: count, make: { r in
            let input: [UInt8]
            switch r.int(0..<20) {
            case 0..<4: input = Array(Fuzz.wktSite(&r, projected: r.chance(0.3)).utf8)
            case 4..<15: input = mutator.mutate(r.pick(corpus), &r)
            case 15..<17: input = Fuzz.hostileWKT(&r)
            case 17: input = (0..<r.int(0...128)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            default: input = (0..<r.int(1...30)).flatMap { _ in r.pick(Fuzz.wktDictionary) }
            }
            return (input, Fuzz.limits(&r))
        }, parsers: [{ input, limits in
            // Projected coordinates need their CRS; lon/lat ones are read as CGCS2000.
            let text = String(decoding: input, as: UTF8.self)
            let crs: String? = text.contains("4049") || text.contains("4050") || text.contains("4051") ? "EPSG:4528" : nil
            return Fuzz.run { try SiteReader.wkt(text, crs: crs, limits: limits) }
        }, Fuzz.sniffing])
        for f in ledger.failures { Issue.record(Comment(rawValue: f)) }
        #expect(ledger.cases == (FuzzConfig.only == nil ? count : 1))
        #expect(ledger.sites > 0 && ledger.errors > 0, "the cases reach both outcomes")
    }

    @Test(.timeLimit(.minutes(10))) func surveyTXTNeverCrashesAndErrorsSayWhere() async throws {
        try await runAtLowPriority { try self.surveyTXTNeverCrashesAndErrorsSayWhereBody() }
    }

    func surveyTXTNeverCrashesAndErrorsSayWhereBody() throws {
        let count = FuzzConfig.cases(25)
        var seedRandom = FuzzRandom(seed: FuzzConfig.seed)
        let corpus = Fuzz.sample(".txt") + (0..<20).map { _ in Array(Fuzz.txtSite(&seedRandom).utf8) }
        try #require(corpus.count >= 23, "the sample projects are the seeds")
        let mutator = Mutator(dictionary: Fuzz.txtDictionary, corpus: corpus)
        let ledger = Fuzz.fuzz("txt", tag: 3, count: count, make: { r in
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
