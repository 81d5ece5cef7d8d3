import Foundation
import GRDB
import GeoCore

/// Writes JSON straight into bytes. Pages of thousands of features are the hot path of the
/// feature API, and building Foundation dictionaries for JSONSerialization costs several
/// times more than the query itself.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            // Most values need no escaping: copy them whole.
            guard utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            for b in utf8 {
                switch b {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
                case 0x0D: bytes.append(0x5C); bytes.append(0x72)
                case 0x09: bytes.append(0x5C); bytes.append(0x74)
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                default: bytes.append(b)
                }
            }
        }
        bytes.append(0x22)
    }

    /// Digits of a non-negative integer, without making a String.
    mutating func digits(_ v: UInt64) {
        if v < 10 { bytes.append(0x30 + UInt8(v)); return }
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for 20 digits
        withUnsafeMutableBytes(of: &buffer) { raw in
            var v = v, i = raw.count
            while v > 0 { i -= 1; raw[i] = 0x30 + UInt8(v % 10); v /= 10 }
            bytes.append(contentsOf: raw[i...])
        }
    }

    mutating func integer(_ i: Int64) {
        if i < 0 { bytes.append(0x2D) }
        digits(i.magnitude)
    }

    /// An attribute or other number, exactly (Swift's shortest round-trip form).
    mutating func number(_ d: Double) {
        guard d.isFinite else { raw("null"); return }
        if d == d.rounded(), abs(d) < 1e15 { integer(Int64(d)); return }
        raw(d.description)
    }

    /// A coordinate with at most 9 decimals (1e-9° is 0.1 mm; a nanometre in projected CRSs),
    /// written with integer arithmetic: formatting doubles through String would be the largest
    /// cost of a page of features. Anything outside that range falls back to `number`.
    mutating func coordinate(_ d: Double) {
        guard d.isFinite else { raw("null"); return }
        let scaled = (d * 1e9).rounded()
        guard abs(scaled) < 9e18 else { number(d); return }
        let n = Int64(scaled)
        if n < 0 { bytes.append(0x2D) }
        let m = n.magnitude
        digits(m / 1_000_000_000)
        var fraction = m % 1_000_000_000
        guard fraction != 0 else { return }
        var width = 9
        while fraction % 10 == 0 { fraction /= 10; width -= 1 }
        bytes.append(0x2E)
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(0x30 + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    mutating func number(_ i: Int) { integer(Int64(i)) }

    mutating func key(_ k: StaticString) {
        raw("\"")
        raw(k)
        raw("\":")
    }

    mutating func key(_ k: String) {
        string(k)
        bytes.append(0x3A)
    }

    mutating func value(_ v: DatabaseValue) {
        switch v.storage {
        case .null, .blob: raw("null")
        case .int64(let i): integer(i)
        case .double(let d): number(d)
        case .string(let s): string(s)
        }
    }

    /// A Foundation JSON value (from JSONSerialization-style dictionaries).
    mutating func any(_ v: Any) {
        switch v {
        case let s as String: string(s)
        case let b as Bool: raw(b ? "true" : "false")
        case let i as Int: number(i)
        case let i as Int64: integer(i)
        case let d as Double: number(d)
        case let a as [Any]:
            raw("[")
            for (i, e) in a.enumerated() {
                if i > 0 { raw(",") }
                any(e)
            }
            raw("]")
        case let o as [String: Any]:
            raw("{")
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { raw(",") }
                key(k)
                any(o[k]!)
            }
            raw("}")
        default: raw("null")
        }
    }

    // MARK: Geometry

    mutating func position(_ c: Coordinate, northFirst: Bool) {
        raw("[")
        if northFirst { coordinate(c.y); raw(","); coordinate(c.x) } else { coordinate(c.x); raw(","); coordinate(c.y) }
        raw("]")
    }

    mutating func positions(_ cs: [Coordinate], northFirst: Bool) {
        raw("[")
        for (i, c) in cs.enumerated() {
            if i > 0 { raw(",") }
            position(c, northFirst: northFirst)
        }
        raw("]")
    }

    mutating func rings(_ p: Polygon, northFirst: Bool) {
        raw("[")
        for (i, r) in p.rings.enumerated() {
            if i > 0 { raw(",") }
            positions(r, northFirst: northFirst)
        }
        raw("]")
    }

    /// A GeoJSON geometry object, with axes swapped when the CRS puts north first.
    mutating func geometry(_ g: Geometry, northFirst: Bool) {
        switch g {
        case .point(let c):
            raw(#"{"type":"Point","coordinates":"#); position(c, northFirst: northFirst)
        case .lineString(let l):
            raw(#"{"type":"LineString","coordinates":"#); positions(l, northFirst: northFirst)
        case .polygon(let p):
            raw(#"{"type":"Polygon","coordinates":"#); rings(p, northFirst: northFirst)
        case .multiPoint(let cs):
            raw(#"{"type":"MultiPoint","coordinates":"#); positions(cs, northFirst: northFirst)
        case .multiLineString(let ls):
            raw(#"{"type":"MultiLineString","coordinates":["#)
            for (i, l) in ls.enumerated() {
                if i > 0 { raw(",") }
                positions(l, northFirst: northFirst)
            }
            raw("]")
        case .multiPolygon(let ps):
            raw(#"{"type":"MultiPolygon","coordinates":["#)
            for (i, p) in ps.enumerated() {
                if i > 0 { raw(",") }
                rings(p, northFirst: northFirst)
            }
            raw("]")
        case .collection(let gs):
            raw(#"{"type":"GeometryCollection","geometries":["#)
            for (i, part) in gs.enumerated() {
                if i > 0 { raw(",") }
                geometry(part, northFirst: northFirst)
            }
            raw("]")
        }
        raw("}")
    }
}
