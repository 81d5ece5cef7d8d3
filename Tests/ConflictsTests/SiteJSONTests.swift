import Foundation
import FuzzSupport
import GeoCore
import Testing

@testable import Conflicts

/// The fast GeoJSON site reader must give exactly the general reader's site (coordinates,
/// area, warnings with their paths) or step aside (nil) so the general reader answers, with
/// its own errors; never a different site, and never a site the general reader refuses.
struct SiteJSONTests {
    static func ring(_ r: inout FuzzRandom, n: Int, cx: Double, cy: Double, size: Double) -> [[Double]] {
        var pts = (0..<n).map { k -> [Double] in
            let a = Double(k) / Double(n) * 2 * .pi, rad = size * r.double(0.5...1)
            return [cx + rad * cos(a), cy + rad * sin(a)]
        }
        pts.append(pts[0])
        return pts
    }

    /// Numbers written as systems write them: 9 or 12 decimals, integers, exponents, and now
    /// and then the shortest form or 15 decimals (more digits than the fast reader takes).
    static func write(_ x: Double, _ r: inout FuzzRandom) -> String {
        if r.chance(0.005) { return r.chance(0.5) ? "\(x)" : String(format: "%.15f", x) }
        switch r.int(0..<4) {
        case 0: return String(format: "%.9f", x)
        case 1: return String(format: "%.12f", x)
        case 2: return String(format: "%.6e", x)
        default: return r.chance(0.5) ? String(Int(x)) : String(format: "%.4f0", x)
        }
    }

    /// Each ring closed by the first position's own text.
    static func coordinates(_ rings: [[[Double]]], _ r: inout FuzzRandom) -> String {
        "["
            + rings.map { ring in
                var texts = ring.dropLast().map { p in
                    "[" + write(p[0], &r) + (r.chance(0.1) ? " , " : ",") + write(p[1], &r) + (r.chance(0.05) ? ",12.5" : "") + "]"
                }
                texts.append(texts[0])
                return "[" + texts.joined(separator: ",") + "]"
            }.joined(separator: ",") + "]"
    }

    static func document(_ r: inout FuzzRandom) -> String {
        let parts = r.int(1...3)
        let polygons = (0..<parts).map { p -> String in
            var rings = [ring(&r, n: r.int(3...40), cx: 120 + Double(p) * 0.01, cy: 28, size: 0.004)]
            if r.chance(0.3) { rings.append(Array(ring(&r, n: 5, cx: 120 + Double(p) * 0.01, cy: 28, size: 0.001).reversed())) }
            if r.chance(0.1) { rings[0][1] = [120.02, 28.02] }  // may make it invalid: repaired, with a warning
            return coordinates(rings, &r)
        }
        let geometry =
            parts == 1 && r.chance(0.5)
            ? "{\"type\":\"Polygon\",\"coordinates\":\(polygons[0])}"
            : "{\"coordinates\":[\(polygons.joined(separator: ","))],\"type\":\"MultiPolygon\",\"bbox\":[1,2,3,4]}"
        switch r.int(0..<4) {
        case 0: return geometry
        case 1: return "{\"type\":\"Feature\",\"properties\":{\"name\":\"地块\",\"n\":[1,{\"a\":null}],\"t\":true},\"geometry\":\(geometry)}"
        case 2: return "{\"type\":\"Feature\",\"properties\":null,\"geometry\":\(geometry),\"id\":7}"
        default: return " \n{\"projectCode\":\"2026-331102-01\",\"projectName\":\"莲都区某项目\",\"geometry\":\(geometry)}\n"
        }
    }

    /// The general path, as `CheckRoutes.parse` takes it for these documents.
    static func general(_ text: String) throws -> (Site, String?, String?) {
        let object = try GeoJSON.parseJSON(Data(text.utf8)) as! [String: Any]
        if object["type"] != nil { return (try SiteReader.geoJSON(json: object, limits: SiteLimits()), nil, nil) }
        do {
            return (
                try SiteReader.geoJSON(json: object["geometry"]!, limits: SiteLimits()), object["projectCode"] as? String,
                object["projectName"] as? String
            )
        } catch let e as SiteError {
            throw SiteError(e.kind, "geometry: \(e.message)")
        }
    }

    static func same(_ text: String) throws -> Bool {
        let fast: SiteJSON.Submission?
        do { fast = try SiteJSON.submission(Data(text.utf8), limits: SiteLimits()) } catch let fastError {
            do { _ = try general(text); return false } catch { return "\(fastError)" == "\(error)" }
        }
        guard let fast else { return true }
        let (site, code, name) = try general(text)
        return fast.site.geometry == site.geometry && fast.site.areaM2 == site.areaM2 && fast.site.warnings == site.warnings
            && fast.site.bbox == site.bbox && fast.projectCode == code && fast.projectName == name
    }

    @Test func randomSitesReadAsTheGeneralReaderReadsThem() throws {
        var r = FuzzRandom(seed: 2026)
        var fastOnes = 0
        for i in 0..<400 {
            let text = Self.document(&r)
            if try SiteJSON.submission(Data(text.utf8), limits: SiteLimits()) != nil { fastOnes += 1 }
            #expect(try Self.same(text), "case \(i): \(text.prefix(300))")
        }
        // The common shapes do take the fast path.
        #expect(fastOnes > 250, "\(fastOnes) of 400")
    }

    @Test func numbersAreReadToTheSameDouble() throws {
        var r = FuzzRandom(seed: 9)
        for _ in 0..<3_000 {
            let x = r.double(-180...180), y = r.double(-90...90)
            for text in [String(format: "%.17g", x), "\(x)", String(format: "%.3e", x), String(format: "%.20f", x)] {
                let doc = "{\"a\":[\(text),\(y)]}"
                let expected = ((try GeoJSON.parseJSON(Data(doc.utf8)) as! [String: Any])["a"] as! [Any])[0]
                var bytes = Array(text.utf8)
                let got = bytes.withUnsafeMutableBufferPointer { b -> Double? in
                    var p = SiteJSON.Parser(bytes: UnsafeBufferPointer(b), limit: 10)
                    return p.number()
                }
                let want = (expected as? Double) ?? (expected as? NSNumber)?.doubleValue
                #expect(got == nil || got == want, "\(text)")
            }
            // Coordinates as surveys and GIS write them (up to 15 digits), in the exact fast
            // path or not: read, and to the double Foundation gives, for sites and stored records.
            for text in [
                String(format: "%.9f", x), String(format: "%.6f", y), String(format: "%.12g", x), String(format: "%.4e", y),
                String(format: "%.1f", x * 1e4), "-0.0", "0.000000001", "123456789012345", "1e22", "1e23"
            ] {
                let expected = ((try GeoJSON.parseJSON(Data("[\(text)]".utf8)) as! [Any])[0])
                let want = (expected as? Double) ?? (expected as? NSNumber)?.doubleValue
                for roundTrip in [false, true] {
                    var bytes = Array(text.utf8)
                    let got = bytes.withUnsafeMutableBufferPointer { b -> Double? in
                        var p = SiteJSON.Parser(bytes: UnsafeBufferPointer(b), limit: 10, roundTrip: roundTrip)
                        return p.number()
                    }
                    #expect(got != nil && got == want, "\(text): \(String(describing: got)) against \(String(describing: want))")
                    #expect(got?.sign == want?.sign || text == "-0.0", "\(text)")
                }
            }
        }
    }

    /// What the fast reader must leave to the general one: each gives the general reader's answer.
    @Test func unusualOrBadInputIsLeftToTheGeneralReader() throws {
        let ring = "[[120,28],[120.001,28],[120.001,28.001],[120,28]]"
        let cases = [
            "{\"type\":\"Polygon\",\"coordinates\":[\(ring)],\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4490\"}}}",
            "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}}]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[120.001,28.001],[120,28.0001]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[120,28]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[1e999,28.001],[120,28]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[\"x\",28.001],[120,28]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[120.001,28.001],[120,28]]],\"type\":\"Polygon\"}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[\(ring)]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[\(ring)]]}",
            "{\"type\":\"Feature\",\"properties\":5,\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}}",
            "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}}}",
            "{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}",
            "{\"type\":\"Point\",\"coordinates\":[120,28]}",
            "{\"projectCode\":\"a\\\"b\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}}",
            "{\"projectCode\":5,\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}}",
            "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]},\"feature\":{}}",
            "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]},\"txt\":\"\"}",
            "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(ring)]}} trailing",
            "{\"type\":\"Polygon\",\"coordinates\":[[[0120,28],[120.001,28],[120.001,28.001],[0120,28]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[200,28],[200.001,28],[200.001,28.001],[200,28]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120,28],[120,28],[120,28]]]}"
        ]
        for text in cases {
            let fast: SiteJSON.Submission?
            do { fast = try SiteJSON.submission(Data(text.utf8), limits: SiteLimits()) } catch {
                // Only a shape the general reader takes and then refuses may be refused here, alike.
                var generalError = ""
                do { _ = try Self.general(text) } catch let e { generalError = "\(e)" }
                #expect("\(error)" == generalError, "\(text)")
                continue
            }
            if fast != nil { #expect(try Self.same(text), "\(text)") }
        }
        // Those that are not plain sites are all left alone.
        for text in cases.prefix(19) where !text.contains("200") {
            #expect((try SiteJSON.submission(Data(text.utf8), limits: SiteLimits())) == nil, "\(text)")
        }
    }

    /// A site over the vertex limit is the general reader's error, not a fast answer.
    @Test func theVertexLimitHolds() throws {
        let text = "{\"type\":\"Polygon\",\"coordinates\":[[[120,28],[120.001,28],[120.001,28.001],[120,28.001],[120,28]]]}"
        #expect(try SiteJSON.submission(Data(text.utf8), limits: SiteLimits(maxVertices: 4)) == nil)
        #expect(try SiteJSON.submission(Data(text.utf8), limits: SiteLimits(maxVertices: 5)) != nil)
    }
}
