import Foundation
import FuzzSupport
import GeoCore
import Testing
import VectorIO

@testable import Conflicts

// The harness that fuzzes the site parsers: GeoJSON and WKT (GeoJSONAndWKTFuzzTests) and the
// 部标 TXT (SurveyTXTFuzzTests).
//
// Every case is an input made from a seeded generator: a valid seed (the sample projects, or a
// random site made by a grammar) mutated at the byte level (bit flips, inserted tokens, deleted or
// duplicated ranges, truncation, splicing two inputs, huge numbers, NaN, deep nesting, GBK and
// broken UTF-8), or random bytes. Each must give a site or a `SiteError` whose message says what
// is wrong and where; nothing may crash, hang, or throw anything else.
//
// Environment:
//   ONEMAP_FUZZ_CASES  total cases over the four parsers (default 100,000: GeoJSON 30%, WKT 20%,
//                      TXT 25%, CQL2 25% in FeaturesTests/CQL2FuzzTests.swift)
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
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// Byte-level mutations shared by the parsers; each parser brings its own dictionary of tokens.
struct Mutator {
    let dictionary: [[UInt8]]
    let corpus: [[UInt8]]

    static let interestingNumbers = [
        "0", "-0", "1e308", "-1e308", "1e309", "-1e999", "1.7976931348623157e308", "4.9e-324", "NaN", "nan",
        "Infinity", "-Infinity", "inf", "99999999999999999999999999999", "-9223372036854775809",
        "18446744073709551616", "1e-400", "0x10", "1_000", "١٢٣", "+1", "1.", ".5", "1e", "--1", "1e+",
        "40491234.567e20", "3150012.345e-5", "9.999999999999999e22", "2147483648", "-2147483649"
    ]
    static let badBytes: [[UInt8]] = [
        [0xFF], [0xFE, 0xFF], [0xC0, 0xAF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0x00], [0xEF, 0xBB, 0xBF], [0x1B], [0x7F], [0xE2, 0x80, 0xAE], [0xCC, 0x81], [0x0D], [0x0B],
        [0xB5, 0xD8, 0xBF, 0xE9]
    ]

    func mutate(_ input: [UInt8], _ r: inout FuzzRandom) -> [UInt8] {
        var b = input
        for _ in 0..<r.int(1...6) { step(&b, &r) }
        return b
    }

    func position(_ b: [UInt8], _ r: inout FuzzRandom) -> Int { b.isEmpty ? 0 : r.int(0...b.count) }

    func step(_ b: inout [UInt8], _ r: inout FuzzRandom) {
        switch r.int(0..<13) {
        case 0:  // flip a bit
            if !b.isEmpty { let i = r.int(0..<b.count); b[i] ^= UInt8(1 << r.int(0..<8)) }
        case 1:  // a random byte
            if !b.isEmpty { b[r.int(0..<b.count)] = UInt8(truncatingIfNeeded: r.next()) }
        case 2, 3:  // a token of the format
            b.insert(contentsOf: r.pick(dictionary), at: position(b, &r))
        case 4:  // delete a range
            if !b.isEmpty { let i = r.int(0..<b.count); b.removeSubrange(i..<min(b.count, i + r.int(1...16))) }
        case 5:  // duplicate a range
            if !b.isEmpty {
                let i = r.int(0..<b.count), chunk = Array(b[i..<min(b.count, i + r.int(1...64))])
                for _ in 0..<r.int(1...4) { b.insert(contentsOf: chunk, at: position(b, &r)) }
            }
        case 6:  // truncate
            if !b.isEmpty { b.removeSubrange(r.int(0..<b.count)...) }
        case 7:  // splice with another input
            let other = r.pick(corpus)
            let cut = position(b, &r), from = other.isEmpty ? 0 : r.int(0..<other.count)
            b = Array(b[..<cut]) + Array(other[from...])
        case 8:  // replace a number with an interesting one
            replaceNumber(&b, &r)
        case 9:  // broken UTF-8, NUL, BOM, control characters
            b.insert(contentsOf: r.pick(Self.badBytes), at: position(b, &r))
        case 10:  // replace a byte by a structural character
            if !b.isEmpty { b[r.int(0..<b.count)] = r.pick(Array(",;()[]{}\"'=@:.-+eE \n\t".utf8)) }
        case 11:  // swap two ranges
            if b.count > 4 {
                let half = b.count / 2, i = r.int(0..<half), j = r.int(half..<b.count)
                let n = r.int(1...min(8, half - i, b.count - j))
                let a = Array(b[i..<i + n]), c = Array(b[j..<j + n])
                b.replaceSubrange(j..<j + n, with: a)
                b.replaceSubrange(i..<i + n, with: c)
            }
        default:  // repeat one line
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
        failures.append(
            "\(name) case \(index) (ONEMAP_FUZZ_SEED=\(FuzzConfig.seed) ONEMAP_FUZZ_ONLY=\(index), input in \(file)): \(problem)\n  input: \(shown)\(input.count > 200 ? "… (\(input.count) bytes)" : "")"
        )
    }

    /// A short, number-free form of an error, to see which errors the inputs reach.
    func kind(_ message: String) {
        let k = String(message.prefix(48)).replacingOccurrences(of: #"[0-9]+"#, with: "N", options: .regularExpression)
        errorKinds[k, default: 0] += 1
    }

    func summary() -> String {
        let top = errorKinds.sorted { $0.value > $1.value }.prefix(8).map { "    \($0.value)× \($0.key)" }.joined(separator: "\n")
        return
            "fuzz \(name): \(cases) cases in \(elapsed), \(sites) sites, \(errors) clear errors, \(failures.count) failures; slowest case \(slowest.1) took \(slowest.0)\n\(top)"
    }
}

struct SiteParserFuzz {
    /// A case using more processor time than this counts as a hang (the largest hostile
    /// inputs take seconds in a debug build).
    static let hangLimit = Duration.seconds(30)

    /// The message of a `SiteError` names what is wrong and where: a line, column, character, JSON
    /// path, key, point, ring, parcel or polygon, or it speaks of the input or site as a whole.
    static let whereWords = [
        "line ", "column ", "character ", "coordinates", "geometry", "features", "\"type\"", "crs", "point",
        "ring", "parcel", "polygon", "POLYGON", "带号", "坐标系", "几度分带", "zone", "the input", "the site", "the TXT",
        "the file", "the GeoJSON", "[地块坐标]", "vertices", "properties", "geometries", "CRS"
    ]

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
    static func fuzz(
        _ name: String, tag: UInt64, count: Int, make: (inout FuzzRandom) -> (input: [UInt8], limits: SiteLimits),
        parsers: [([UInt8], SiteLimits) -> ParseOutcome]
    ) -> FuzzLedger {
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
                if let problem = judge(outcome, limits: limits, ledger: ledger) {
                    ledger.record(index: index, input: input, problem: problem)
                }
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
        return names.filter { $0.hasSuffix(ext) }.sorted().compactMap {
            FileManager.default.contents(atPath: dir.appendingPathComponent($0).path)
        }.map { [UInt8]($0) }
    }

    // MARK: Random sites

    /// A ring of `n` points around a centre: in order (a simple polygon) or shuffled (self-intersecting).
    static func ring(_ r: inout FuzzRandom, center: (Double, Double), radius: Double, n: Int) -> [(Double, Double)] {
        var angles = (0..<n).map { _ in r.double(0...(2 * .pi)) }
        if r.chance(0.7) { angles.sort() }
        var pts = angles.map { a in (center.0 + radius * r.double(0.3...1) * cos(a), center.1 + radius * r.double(0.3...1) * sin(a)) }
        if r.chance(0.05), pts.count > 1 { pts[1] = pts[0] }  // a repeated point
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

    /// How deep or long a hostile input is: mostly past the small bounds (64, 512), sometimes huge.
    static func hostileSize(_ r: inout FuzzRandom) -> Int {
        r.chance(0.04) ? r.pick([10_000, 100_000]) : r.pick([10, 65, 100, 513, 1_000, 3_000])
    }
}
