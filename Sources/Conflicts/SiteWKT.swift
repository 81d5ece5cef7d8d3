import Foundation
import GeoCore

/// Reads the Well-Known Text of a site: POLYGON, MULTIPOLYGON, or a GEOMETRYCOLLECTION of them,
/// with Z, M or ZM coordinates (heights dropped) and EMPTY parts.
///
/// Why not GEOS's reader: it says what it expected but not where ("Expected number but
/// encountered word"), takes a C string (ignoring everything after a NUL) and recurses without
/// a bound (a GEOMETRYCOLLECTION nested 10,000 deep overflows the stack). This one names the
/// character of every problem, bounds the nesting and counts vertices as it reads.
struct SiteWKT {
    /// A MULTIPOLYGON needs 3 levels of parentheses; GEOMETRYCOLLECTIONs add one each.
    static let maxNesting = 16

    enum Kind: Equatable { case word(String), number(String), open, close, comma, end }
    struct Token { let kind: Kind; let position: Int }

    let tokens: [Token]
    var index = 0
    let maxVertices: Int
    var vertices = 0

    /// The polygons of the text, each with where it starts ("polygon 2 (character 57)").
    static func polygons(_ text: String, maxVertices: Int) throws -> [(Polygon, String)] {
        var reader = SiteWKT(tokens: try tokenize(text), maxVertices: maxVertices)
        var out: [(Polygon, String)] = []
        try reader.geometry(into: &out, depth: 0)
        let rest = reader.peek
        guard rest.kind == .end else { throw reader.malformed("unexpected \(describe(rest.kind)) after the geometry", rest) }
        return out
    }

    static func tokenize(_ text: String) throws -> [Token] {
        let chars = Array(text.unicodeScalars)
        var out: [Token] = []
        var i = 0, depth = 0
        func isWordStart(_ c: Unicode.Scalar) -> Bool { (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c == "_" }
        func isNumberPart(_ c: Unicode.Scalar) -> Bool {
            (c >= "0" && c <= "9") || c == "." || c == "e" || c == "E" || c == "+" || c == "-"
        }
        while i < chars.count {
            let c = chars[i], start = i + 1
            switch c {
            case " ", "\t", "\n", "\r": i += 1
            case "(":
                depth += 1
                guard depth <= maxNesting else {
                    throw SiteError(.malformed, "not valid WKT: parentheses nest deeper than \(maxNesting) levels at character \(start)")
                }
                out.append(Token(kind: .open, position: start)); i += 1
            case ")": depth -= 1; out.append(Token(kind: .close, position: start)); i += 1
            case ",": out.append(Token(kind: .comma, position: start)); i += 1
            default:
                if isWordStart(c) {
                    var s = ""
                    while i < chars.count, isWordStart(chars[i]) || (chars[i] >= "0" && chars[i] <= "9") {
                        s.unicodeScalars.append(chars[i]); i += 1
                    }
                    out.append(Token(kind: .word(s), position: start))
                } else if isNumberPart(c) {
                    var s = ""
                    while i < chars.count, isNumberPart(chars[i]) { s.unicodeScalars.append(chars[i]); i += 1 }
                    out.append(Token(kind: .number(s), position: start))
                } else {
                    let shown = c == "\0" ? "a NUL" : (c.value < 0x20 || c.value == 0x7F ? String(format: "U+%04X", c.value) : "'\(c)'")
                    throw SiteError(.malformed, "not valid WKT: unexpected character \(shown) at character \(start)")
                }
            }
        }
        out.append(Token(kind: .end, position: chars.count + 1))
        return out
    }

    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .word(let w): return "'\(w.count > 30 ? String(w.prefix(27)) + "..." : w)'"
        case .number(let n): return "the number \(n.count > 30 ? String(n.prefix(27)) + "..." : n)"
        case .open: return "'('"
        case .close: return "')'"
        case .comma: return "','"
        case .end: return "the end of the text"
        }
    }

    var peek: Token { tokens[index] }
    mutating func next() -> Token { defer { if index < tokens.count - 1 { index += 1 } }; return tokens[index] }

    func malformed(_ message: String, _ token: Token) -> SiteError {
        SiteError(.malformed, "not valid WKT at character \(token.position): \(message)")
    }

    mutating func expect(_ kind: Kind, _ what: String) throws {
        let t = next()
        guard t.kind == kind else { throw malformed("expected \(what), found \(Self.describe(t.kind))", t) }
    }

    /// `Z`, `M` or `ZM` after a tag, then `EMPTY` or not.
    mutating func dimensionThenEmpty() -> Bool {
        if case .word(let w) = peek.kind, ["Z", "M", "ZM"].contains(w.uppercased()) { _ = next() }
        if case .word(let w) = peek.kind, w.uppercased() == "EMPTY" { _ = next(); return true }
        return false
    }

    mutating func geometry(into out: inout [(Polygon, String)], depth: Int) throws {
        let tag = next()
        guard case .word(let w) = tag.kind else {
            throw malformed("expected POLYGON, MULTIPOLYGON or GEOMETRYCOLLECTION, found \(Self.describe(tag.kind))", tag)
        }
        switch w.uppercased() {
        case "POLYGON":
            if dimensionThenEmpty() { return }
            out.append((try polygon(), "polygon \(out.count + 1) (character \(tag.position))"))
        case "MULTIPOLYGON":
            if dimensionThenEmpty() { return }
            try expect(.open, "'(' after MULTIPOLYGON")
            repeat {
                let start = peek
                if case .word(let e) = start.kind, e.uppercased() == "EMPTY" { _ = next(); continue }
                out.append((try polygon(), "polygon \(out.count + 1) (character \(start.position))"))
            } while accept(.comma)
            try expect(.close, "',' or ')' closing the MULTIPOLYGON")
        case "GEOMETRYCOLLECTION":
            if dimensionThenEmpty() { return }
            try expect(.open, "'(' after GEOMETRYCOLLECTION")
            repeat { try geometry(into: &out, depth: depth + 1) } while accept(.comma)
            try expect(.close, "',' or ')' closing the GEOMETRYCOLLECTION")
        case "POINT", "LINESTRING", "MULTIPOINT", "MULTILINESTRING", "CIRCULARSTRING", "COMPOUNDCURVE", "CURVEPOLYGON", "MULTICURVE",
            "MULTISURFACE", "TRIANGLE", "TIN", "POLYHEDRALSURFACE", "LINEARRING":
            throw SiteError(.invalid, "WKT at character \(tag.position): a site must be a POLYGON or MULTIPOLYGON, not a \(w.uppercased())")
        default:
            throw malformed("unknown geometry type '\(w.count > 30 ? String(w.prefix(27)) + "..." : w)'", tag)
        }
    }

    mutating func accept(_ kind: Kind) -> Bool {
        guard peek.kind == kind else { return false }
        _ = next()
        return true
    }

    mutating func polygon() throws -> Polygon {
        try expect(.open, "'(' starting a polygon")
        var rings: [[Coordinate]] = []
        repeat { rings.append(try ring()) } while accept(.comma)
        try expect(.close, "',' or ')' closing the polygon")
        return Polygon(rings)
    }

    mutating func ring() throws -> [Coordinate] {
        let start = peek
        try expect(.open, "'(' starting a ring")
        var ring: [Coordinate] = []
        repeat { ring.append(try position()) } while accept(.comma)
        try expect(.close, "',' or ')' closing the ring")
        guard ring.count >= 4 else {
            throw SiteError(
                .invalid,
                "WKT at character \(start.position): the ring has \(ring.count) positions; a ring needs at least 4 (the first repeated last)"
            )
        }
        guard ring.first == ring.last else {
            throw SiteError(
                .invalid,
                "WKT at character \(start.position): the ring is not closed: its last position (\(ring[ring.count - 1].x) \(ring[ring.count - 1].y)) must repeat the first (\(ring[0].x) \(ring[0].y))"
            )
        }
        return ring
    }

    mutating func number() throws -> Double {
        let t = next()
        guard case .number(let s) = t.kind else { throw malformed("expected a number, found \(Self.describe(t.kind))", t) }
        guard let d = Double(s) else { throw malformed("'\(s.count > 30 ? String(s.prefix(27)) + "..." : s)' is not a number", t) }
        guard d.isFinite else { throw malformed("\(s) is too large a number", t) }
        return d
    }

    mutating func position() throws -> Coordinate {
        let start = peek
        let x = try number(), y = try number()
        // Z and M, read and dropped: a site is two-dimensional.
        for _ in 0..<2 { if case .number = peek.kind { _ = try number() } }
        vertices += 1
        guard vertices <= maxVertices else {
            throw SiteError(.tooLarge, "the site has more than \(maxVertices) vertices (WKT character \(start.position))")
        }
        return Coordinate(x, y)
    }
}
