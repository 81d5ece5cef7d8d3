import Foundation
import GeoCore
import Testing

@testable import Features

struct JSONWriterTests {
    func coordinate(_ d: Double) -> String {
        var w = JSONWriter()
        w.coordinate(d)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func coordinatesKeepNineDecimals() {
        #expect(coordinate(120) == "120")
        #expect(coordinate(28.0055) == "28.0055")
        #expect(coordinate(-0.05) == "-0.05")
        #expect(coordinate(120.001234567891) == "120.001234568")
        #expect(coordinate(0.000000001) == "0.000000001")
        #expect(coordinate(40_500_000.25) == "40500000.25")
        #expect(coordinate(-13_358_338.895192828) == "-13358338.895192828")
        #expect(coordinate(1e20) == "1e+20")
        // Every output parses back within half a nanodegree of the input, plus the rounding
        // error of `d * 1e9` itself (about 2e-14 at 180°). A fixed-step sweep keeps the test
        // reproducible; the step is irrational-looking so the decimals vary.
        var d = -180.0
        while d <= 180 {
            let back = Double(coordinate(d))!
            #expect(abs(back - d) <= 5e-10 + 1e-13, "\(d)")
            d += 0.036_182_917_303_1
        }
        // The value that found the too-tight bound: it sits on a half-nanodegree tie.
        let tie = -90.1113273865
        #expect(abs(Double(coordinate(tie))! - tie) <= 5e-10 + 1e-13)
    }

    @Test func stringsAreEscaped() throws {
        var w = JSONWriter()
        w.any(["a\"b\\c\n\u{1}": "水田 \"x\"\t", "n": 3, "d": 0.5, "z": NSNull()] as [String: Any])
        let back = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(back["a\"b\\c\n\u{1}"] as? String == "水田 \"x\"\t")
        #expect(back["n"] as? Int == 3 && back["d"] as? Double == 0.5 && back["z"] is NSNull)
    }
}
