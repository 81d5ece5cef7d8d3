import Foundation
import GeoCore

/// A fast reading of the GeoJSON sites almost every request brings: a Polygon or MultiPolygon,
/// bare or as a Feature, optionally wrapped as {"projectCode", "projectName", "geometry" |
/// "feature"}. Foundation's JSONSerialization makes an NSNumber of every coordinate and the
/// generic reader casts each back, which takes longer than checking a site of a thousand
/// vertices. This reads the bytes once, straight into polygons.
///
/// It only accepts what the general path (`SiteReader.geoJSON`, `CheckRoutes.parse`) would
/// accept, with the same result; for anything else (a crs, a collection, a TXT, a duplicate
/// key, a number it would not take, any error at all) it answers nil and the general path
/// reads the input, with its errors and messages.
public enum SiteJSON {
    /// The names a Feature's properties may give the project by, as planners' files name
    /// them: the API's own, and the 三调/审批 field names.
    public static let projectCodeNames: Set<String> = ["projectCode", "项目代码"]
    public static let projectNameNames: Set<String> = ["projectName", "项目名称"]

    /// The project's code and name from a Feature's properties, when they are there as text
    /// or, for a code, as a whole number (as spreadsheets export codes); nil for each if not.
    public static func project(fromProperties properties: [String: Any]) -> (code: String?, name: String?) {
        func text(_ names: Set<String>, numbers: Bool) -> String? {
            for name in names.sorted() {
                if let s = properties[name] as? String { return s }
                if numbers, let d = properties[name] as? Double, let i = Int64(exactly: d) { return String(i) }
            }
            return nil
        }
        return (text(projectCodeNames, numbers: true), text(projectNameNames, numbers: false))
    }

    public struct Submission {
        public var site: Site
        public var projectCode: String?
        public var projectName: String?
    }

    /// The site and, when wrapped, the project's code and name; nil to use the general path.
    /// Errors are those of a site that parses but cannot be used (invalid shape), as the
    /// general path gives them.
    public static func submission(_ data: Data, limits: SiteLimits) throws -> Submission? {
        guard
            let (polygons, code, name, key) = data.withUnsafeBytes({ raw -> ([(Polygon, String)], String?, String?, String?)? in
                var p = Parser(bytes: raw.bindMemory(to: UInt8.self), limit: limits.maxVertices)
                return p.document()
            })
        else { return nil }
        do {
            return Submission(site: try Site.make(polygons: polygons, crs: nil, limits: limits), projectCode: code, projectName: name)
        } catch let e as SiteError where key != nil {
            throw SiteError(e.kind, "\(key!): \(e.message)")
        }
    }

    /// The polygons of a bare Polygon or MultiPolygon (a record's stored site), or nil.
    static func polygons(_ text: String) -> [(Polygon, String)]? {
        var text = text
        return text.withUTF8 { buffer in
            // Written by GeoJSONWriter in shortest round-trip form: strtod reads every digit back exactly.
            var p = Parser(bytes: buffer, limit: .max, roundTrip: true)
            p.space()
            guard p.peek == UInt8(ascii: "{"), let polygons = p.geoJSON(), p.atEnd() else { return nil }
            return polygons
        }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let limit: Int
        /// Numbers of any length, to the nearest double: for text this program wrote.
        let roundTrip: Bool
        var i = 0
        var vertices = 0
        /// The project's code and name from a Feature's properties, when it gave them.
        var propertyCode: String?
        var propertyName: String?

        init(bytes: UnsafeBufferPointer<UInt8>, limit: Int, roundTrip: Bool = false) {
            self.bytes = bytes; self.limit = limit; self.roundTrip = roundTrip
        }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func space() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func atEnd() -> Bool { space(); return i == bytes.count }

        mutating func take(_ b: UInt8) -> Bool {
            space()
            guard peek == b else { return false }
            i += 1
            return true
        }

        /// The whole body: a GeoJSON object, or the wrapper around one.
        mutating func document() -> ([(Polygon, String)], String?, String?, String?)? {
            space()
            guard peek == UInt8(ascii: "{") else { return nil }
            let start = i
            // A GeoJSON object has a "type"; the wrapper has none.
            if let polygons = geoJSON() { return atEnd() ? (polygons, propertyCode, propertyName, nil) : nil }
            i = start
            propertyCode = nil; propertyName = nil
            var code: String?, name: String?, site: [(Polygon, String)]?, key: String?
            var seen = Set<String>()
            guard
                members({ p, member in
                    guard seen.insert(member).inserted else { return false }
                    switch member {
                    case "projectCode", "projectName":
                        var value: String? = nil
                        if !p.literal("null") { guard let s = p.string() else { return false }; value = s }
                        if member == "projectCode" { code = value } else { name = value }
                        return true
                    case "geometry", "feature":
                        guard site == nil, let polygons = p.geoJSON() else { return false }
                        site = polygons; key = member
                        return true
                    default: return false
                    }
                }), let site, atEnd()
            else { return nil }
            // The wrapper's own keys first, then the feature's properties.
            return (site, code ?? propertyCode, name ?? propertyName, key)
        }

        /// `{ "key": value, … }`, calling `member` at each value; false stops the reading.
        mutating func members(_ member: (inout Parser, String) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                space()
                guard let key = string(), take(UInt8(ascii: ":")) else { return false }
                space()
                guard member(&self, key) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        /// A Feature, Polygon or MultiPolygon with no crs, as `GeoJSON.read` gives its polygons,
        /// each with the path it names it by.
        mutating func geoJSON(feature: Bool = true) -> [(Polygon, String)]? {
            var type: String?, geometry: [(Polygon, String)]?, coordinates: [Polygon]?, multi = false
            var seen = Set<String>()
            guard
                members({ p, key in
                    guard seen.insert(key).inserted else { return false }
                    switch key {
                    case "type": type = p.string(); return type != nil
                    case "crs", "features", "geometries": return false
                    case "geometry": geometry = p.geoJSONGeometry(); return geometry != nil
                    case "coordinates":
                        p.space()
                        let start = p.i
                        if let one = p.polygon() { coordinates = [one]; return true }
                        p.i = start
                        multi = true
                        coordinates = p.list { $0.polygon() }
                        return coordinates != nil
                    case "properties":
                        // An object or null, as a Feature's must be (anything else is the general
                        // path's error). The project's code and name are taken when given as text;
                        // as anything else, the general path reads them.
                        p.space()
                        guard p.peek == UInt8(ascii: "{") else { return p.literal("null") }
                        return p.members { p, name in
                            let isCode = SiteJSON.projectCodeNames.contains(name), isName = SiteJSON.projectNameNames.contains(name)
                            guard isCode || isName else { return p.skipValue() }
                            p.space()
                            if p.literal("null") { return true }
                            guard let value = p.string() else { return false }
                            if isCode { p.propertyCode = p.propertyCode ?? value } else { p.propertyName = p.propertyName ?? value }
                            return true
                        }
                    default: return p.skipValue()
                    }
                })
            else { return nil }
            switch type {
            case "Feature":
                return feature && coordinates == nil ? geometry : nil
            case "Polygon":
                guard geometry == nil, let coordinates, !multi else { return nil }
                return [(coordinates[0], "geometry")]
            case "MultiPolygon":
                guard geometry == nil, let coordinates, multi else { return nil }
                return coordinates.enumerated().map { ($1, "geometry.coordinates[\($0)]") }
            default: return nil
            }
        }

        /// A Feature's geometry: a Polygon or MultiPolygon.
        mutating func geoJSONGeometry() -> [(Polygon, String)]? {
            space()
            guard peek == UInt8(ascii: "{"), let polygons = geoJSON(feature: false) else { return nil }
            return polygons
        }

        /// `[item, …]`, at least one.
        mutating func list<T>(_ item: (inout Parser) -> T?) -> [T]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var out: [T] = []
            repeat {
                guard let x = item(&self) else { return nil }
                out.append(x)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? out : nil
        }

        /// Rings of at least 4 positions, closed, as `GeoJSON.Reader.polygon` requires.
        mutating func polygon() -> Polygon? {
            guard
                let rings = list({ p -> [Coordinate]? in
                    guard let ring = p.list({ $0.position() }), ring.count >= 4, ring.first == ring.last else { return nil }
                    return ring
                })
            else { return nil }
            return Polygon(rings)
        }

        /// `[x, y]`, or with more ordinates (numbers), which are ignored.
        mutating func position() -> Coordinate? {
            guard take(UInt8(ascii: "[")), let x = number(), take(UInt8(ascii: ",")), let y = number() else { return nil }
            while take(UInt8(ascii: ",")) { guard number() != nil else { return nil } }
            guard take(UInt8(ascii: "]")) else { return nil }
            vertices += 1
            guard vertices <= limit else { return nil }
            return Coordinate(x, y)
        }

        /// A JSON number, finite, as Foundation reads it: an integer literal as an integer
        /// (so -0 is 0), anything else by strtod. Foundation does not round every long
        /// mantissa to the nearest double, so numbers of more than 15 significant digits
        /// (where the nearest is the only answer any reader gives) are left to it.
        mutating func number() -> Double? {
            space()
            let start = i
            var significant = 0
            // The digits as one integer, and how many of them follow the point: most numbers
            // (coordinates with up to 15 digits) are then one exact division (see `exact`).
            var mantissa: UInt64 = 0
            var fractionDigits = 0
            func digits(fraction: Bool) {
                while let d = peek, d >= 0x30 && d <= 0x39 {
                    if significant > 0 || d != 0x30 { significant += 1 }
                    if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(d - 0x30) }
                    if fraction { fractionDigits += 1 }
                    i += 1
                }
            }
            let negative = peek == UInt8(ascii: "-")
            if negative { i += 1 }
            guard let first = peek, first >= 0x30 && first <= 0x39 else { return nil }
            if first == 0x30, i + 1 < bytes.count, bytes[i + 1] >= 0x30 && bytes[i + 1] <= 0x39 { return nil }
            digits(fraction: false)
            var integral = true
            if peek == UInt8(ascii: ".") {
                integral = false
                i += 1
                guard let d = peek, d >= 0x30 && d <= 0x39 else { return nil }
                digits(fraction: true)
            }
            guard roundTrip || significant <= 15 else { return nil }
            var exponent = 0
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                integral = false
                i += 1
                var sign = 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { sign = peek == UInt8(ascii: "-") ? -1 : 1; i += 1 }
                guard let d = peek, d >= 0x30 && d <= 0x39 else { return nil }
                while let d = peek, d >= 0x30 && d <= 0x39 { exponent = min(exponent * 10 + Int(d - 0x30), 100_000); i += 1 }
                exponent *= sign
            }
            let count = i - start
            // Long integers are where Foundation might differ (Int64 range, then Double): not read here.
            guard count < 64 || roundTrip, !(integral && count > 15) else { return nil }
            let value: Double
            if significant <= 19, let exact = Self.exact(mantissa, power: exponent - fractionDigits) {
                value = negative ? -exact : exact
            } else {
                value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
                    for k in 0..<count { buffer[k] = CChar(bitPattern: bytes[start + k]) }
                    buffer[count] = 0
                    return strtod(buffer.baseAddress!, nil)
                }
            }
            guard value.isFinite else { return nil }
            return integral && value == 0 ? 0 : value
        }

        /// `mantissa` × 10^`power` correctly rounded, when that takes one IEEE operation on two
        /// exact doubles (Clinger's fast path: a mantissa below 2^53, a power of ten up to
        /// 10^22), as `strtod` would give it; nil otherwise, for `strtod`. Why: through
        /// `strtod`, each of a corridor's 2,000 coordinates costs a buffer and a call.
        static func exact(_ mantissa: UInt64, power: Int) -> Double? {
            guard mantissa <= 1 << 53, abs(power) <= 22 else { return nil }
            let m = Double(mantissa)
            return power < 0 ? m / powersOfTen[-power] : m * powersOfTen[power]
        }

        static let powersOfTen: [Double] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
        ]

        /// A string without escapes or control characters (names and types); nil otherwise.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while let b = peek, b != UInt8(ascii: "\"") {
                guard b >= 0x20, b != UInt8(ascii: "\\") else { return nil }
                i += 1
            }
            guard peek != nil else { return nil }
            let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            i += 1
            return s
        }

        mutating func literal(_ word: StaticString) -> Bool {
            space()
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        /// Any JSON value, not kept (properties, bbox, foreign members); nil-free strings only.
        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 64 else { return false }
            space()
            switch peek {
            case UInt8(ascii: "{"):
                var keys = Set<String>()
                return members { p, key in keys.insert(key).inserted && p.skipValue(depth: depth + 1) }
            case UInt8(ascii: "["):
                i += 1
                if take(UInt8(ascii: "]")) { return true }
                repeat { guard skipValue(depth: depth + 1) else { return false } } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]"))
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number() != nil
            }
        }
    }
}
