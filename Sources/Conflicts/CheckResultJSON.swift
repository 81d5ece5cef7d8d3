import Foundation
import GeoCore
import LayerStore

/// The answer's JSON written by hand, byte for byte what `CheckResult.encoder()` gives
/// (sorted keys, slashes unescaped, absent optionals left out): JSONEncoder builds a tree of
/// boxed values for every feature, which for an answer of a few hundred conflicting parcels
/// takes longer than checking the site.
struct CheckResultJSON {
    private(set) var bytes: [UInt8] = []
    /// A feature's property values in its dictionary's order, reused from feature to feature.
    private var values: [AttributeValue] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// What JSONEncoder refuses, refused alike: a number that is not finite.
    struct NonFinite: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path): a number that is not finite cannot be written as JSON" }
    }

    static func encode(_ r: CheckResult) throws -> Data {
        let features = r.layers.reduce(0) { $0 + $1.features.count }
        var w = CheckResultJSON(capacity: 512 + 256 * r.layers.count + 192 * features)
        try w.result(r)
        return Data(w.bytes)
    }

    // Keys in each object are in the order JSONEncoder's `.sortedKeys` gives: by UTF-8 bytes.

    mutating func result(_ r: CheckResult) throws {
        byte(UInt8(ascii: "{"))
        var first = true
        if let v = r.createdAt { key("createdAt", &first); string(v) }
        if let v = r.id { key("id", &first); string(v) }
        if let v = r.landUse {
            // A few dozen numbers: JSONEncoder's bytes, which the whole answer's must equal.
            key("landUse", &first)
            bytes.append(contentsOf: try CheckResult.encoder().encode(v))
        }
        key("layers", &first)
        byte(UInt8(ascii: "["))
        for (i, layer) in r.layers.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            try self.layer(layer, path: "layers[\(i)]")
        }
        byte(UInt8(ascii: "]"))
        if let v = r.projectCode { key("projectCode", &first); string(v) }
        if let v = r.projectName { key("projectName", &first); string(v) }
        key("site", &first)
        try site(r.site)
        key("verdict", &first); string(r.verdict.rawValue)
        key("warnings", &first)
        byte(UInt8(ascii: "["))
        for (i, warning) in r.warnings.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            string(warning)
        }
        bytes.append(contentsOf: "]}".utf8)
    }

    mutating func site(_ s: CheckResult.SiteSummary) throws {
        var first = true
        byte(UInt8(ascii: "{"))
        key("areaHa", &first); try number(s.areaHa, "site.areaHa")
        key("areaM2", &first); try number(s.areaM2, "site.areaM2")
        key("areaMu", &first); try number(s.areaMu, "site.areaMu")
        key("bbox", &first)
        byte(UInt8(ascii: "["))
        for (i, x) in s.bbox.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            try number(x, "site.bbox")
        }
        bytes.append(contentsOf: "]}".utf8)
    }

    mutating func layer(_ l: CheckResult.LayerConflict, path: @autoclosure () -> String) throws {
        var first = true
        byte(UInt8(ascii: "{"))
        key("conflict", &first); bytes.append(contentsOf: (l.conflict ? "true" : "false").utf8)
        key("features", &first)
        byte(UInt8(ascii: "["))
        var order: PropertyOrder? = nil
        for (i, f) in l.features.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            try feature(f, order: &order, path: path())
        }
        byte(UInt8(ascii: "]"))
        key("layer", &first); string(l.layer)
        if let v = l.outsideAreaM2 { key("outsideAreaM2", &first); try number(v, path() + ".outsideAreaM2") }
        key("overlapAreaM2", &first); try number(l.overlapAreaM2, path() + ".overlapAreaM2")
        key("overlapRatio", &first); try number(l.overlapRatio, path() + ".overlapRatio")
        key("severity", &first); string(l.severity.rawValue)
        key("title", &first); string(l.title)
        if let v = l.version { key("version", &first); integer(Int64(v)) }
        if let v = l.versionLabel { key("versionLabel", &first); string(v) }
        byte(UInt8(ascii: "}"))
    }

    /// How to write a layer's properties: the names as the features' dictionaries hold them,
    /// and the order to write them in (by UTF-8 bytes), each with its `"name":` ready.
    ///
    /// Why: the features of one layer are read into copies of one dictionary (`LayerFields`),
    /// so they hold the same names in the same order. A feature whose names come in the
    /// order of the last one is written by position, hashing no name: looking every name up
    /// is a large part of writing a corridor's answer. Any other feature gets an order of its own.
    struct PropertyOrder {
        let held: [String]
        /// Positions in `held`, in the order written, and each one's `"name":` bytes.
        let written: [Int]
        let keys: [[UInt8]]

        init(_ properties: [String: AttributeValue]) {
            let held = Array(properties.keys)
            let written = held.indices.sorted { held[$0].utf8.lexicographicallyPrecedes(held[$1].utf8) }
            self.held = held
            self.written = written
            keys = written.map { i in
                var w = CheckResultJSON(capacity: held[i].utf8.count + 3)
                w.string(held[i])
                w.byte(UInt8(ascii: ":"))
                return w.bytes
            }
        }

        func fits(_ properties: [String: AttributeValue]) -> Bool {
            properties.count == held.count && zip(properties.keys, held).allSatisfy { $0 == $1 }
        }
    }

    mutating func feature(_ f: CheckResult.FeatureConflict, order: inout PropertyOrder?, path: @autoclosure () -> String) throws {
        var first = true
        byte(UInt8(ascii: "{"))
        key("id", &first); string(f.id)
        if let v = f.lengthM { key("lengthM", &first); try number(v, path() + ".lengthM") }
        if let v = f.minDistanceM { key("minDistanceM", &first); try number(v, path() + ".minDistanceM") }
        key("overlapAreaM2", &first); try number(f.overlapAreaM2, path() + ".overlapAreaM2")
        key("properties", &first)
        if !(order?.fits(f.properties) ?? false) { order = PropertyOrder(f.properties) }
        let order = order!
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: f.properties.values)
        byte(UInt8(ascii: "{"))
        for (k, i) in order.written.enumerated() {
            if k > 0 { byte(UInt8(ascii: ",")) }
            bytes.append(contentsOf: order.keys[k])
            try value(values[i], path() + ".properties")
        }
        byte(UInt8(ascii: "}"))
        if let v = f.severity { key("severity", &first); string(v.rawValue) }
        byte(UInt8(ascii: "}"))
    }

    mutating func value(_ v: AttributeValue, _ path: @autoclosure () -> String) throws {
        switch v {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .integer(let i): integer(i)
        case .real(let d): try number(d, path())
        case .text(let s): string(s)
        }
    }

    // MARK: Scalars, as JSONEncoder writes them

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func key(_ name: String, _ first: inout Bool) {
        if first { first = false } else { byte(UInt8(ascii: ",")) }
        string(name)
        byte(UInt8(ascii: ":"))
    }

    /// Decimal digits, written in place (no String in between): last digit first, then turned.
    mutating func integer(_ i: Int64) {
        if i < 0 { byte(UInt8(ascii: "-")) }
        var m = i.magnitude
        let start = bytes.count
        repeat {
            bytes.append(0x30 + UInt8(m % 10))
            m /= 10
        } while m > 0
        bytes[start...].reverse()
    }

    /// Swift's shortest round-trip form, without a trailing ".0" (1.0 is 1, 1e-07 stays).
    /// A whole number below 1e15, which that form writes in full, is written as an integer.
    /// The path, for the error only, is built only then: building it for every number was a
    /// tenth of writing a corridor's answer.
    mutating func number(_ d: Double, _ path: @autoclosure () -> String) throws {
        guard d.isFinite else { throw NonFinite(path: path()) }
        if abs(d) < 1e15, d == d.rounded(.towardZero), !(d == 0 && d.sign == .minus) {
            integer(Int64(d))
            return
        }
        let text = d.description
        if text.hasSuffix(".0") { bytes.append(contentsOf: text.utf8.dropLast(2)) } else { bytes.append(contentsOf: text.utf8) }
    }

    /// Quotes and backslashes escaped, control characters as \b \t \n \f \r or \u00xx
    /// (lower-case hex); everything else, slashes and non-ASCII included, as it is.
    mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        // Ids, names and labels almost never need escaping: copied whole, from the string's
        // own contiguous bytes (stepping its UTF-8 view byte by byte costs more than the copy).
        var s = s
        let plain = s.withUTF8 { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if plain {
            byte(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        byte(UInt8(ascii: "\""))
    }
}
