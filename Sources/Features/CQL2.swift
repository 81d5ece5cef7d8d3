import GeoCore

/// A CQL2 filter (OGC 21-065, the text encoding), as parsed: what `filter=` asks for,
/// before any property is looked up. `FilterSQL` turns it into SQL with bound values.
public indirect enum CQL2Expression: Equatable, Sendable {
    case and([CQL2Expression])
    case or([CQL2Expression])
    case not(CQL2Expression)
    case literal(Bool)
    case compare(CQL2Comparison, CQL2Scalar, CQL2Scalar)
    case like(CQL2Scalar, pattern: String, negated: Bool)
    case between(CQL2Scalar, CQL2Scalar, CQL2Scalar, negated: Bool)
    case inList(CQL2Scalar, [CQL2Scalar], negated: Bool)
    case isNull(CQL2Scalar, negated: Bool)
    case spatial(CQL2Spatial, CQL2GeometryOperand, CQL2GeometryOperand)
}

public enum CQL2Comparison: String, Sendable {
    case equal = "=", notEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
}

public enum CQL2Scalar: Equatable, Sendable {
    case property(String)
    case string(String)
    case number(Double)
    case boolean(Bool)
    /// `DATE('2024-01-31')` and `TIMESTAMP('2024-01-31T08:00:00Z')`: compared as ISO 8601 text,
    /// which is how layers store dates.
    case date(String)
    case timestamp(String)
}

/// The spatial functions of CQL2. Those whose exact test OneMap cannot make with the GEOS
/// predicates it has (touches, overlaps, crosses) are parsed, then refused by `FilterSQL`.
public enum CQL2Spatial: String, CaseIterable, Sendable {
    case intersects = "S_INTERSECTS", disjoint = "S_DISJOINT", within = "S_WITHIN", contains = "S_CONTAINS"
    case equals = "S_EQUALS", touches = "S_TOUCHES", overlaps = "S_OVERLAPS", crosses = "S_CROSSES"
}

public enum CQL2GeometryOperand: Equatable, Sendable {
    case property(String)
    /// A WKT or BBOX literal, in the axis order of the filter's CRS, as written.
    case literal(Geometry, isBox: Bool)
}

/// A malformed filter: what was expected and at which character (1-based), so a person can fix it.
public struct CQL2SyntaxError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let position: Int
    public var description: String { "malformed CQL2 at character \(position): \(message)" }
}

/// A recursive-descent parser for CQL2 text: OR binds loosest, then AND, then NOT, then the
/// predicates. Keywords are case-insensitive; property names are not.
public struct CQL2Parser {
    /// Bounds that keep a hostile filter from exhausting the stack or the CPU.
    public static let maxLength = 200_000
    public static let maxDepth = 64
    public static let maxVertices = 100_000
    /// Bounds that keep a valid filter within what SQLite evaluates, so a large filter is the
    /// caller's 400 and not our 500: SQLite's parser overflows at about 45 nested parentheses
    /// (each NOT, AND or OR inside another is one), its expression tree stops at a depth of
    /// 1,000 (an AND of 1,000 terms), and a statement binds at most 32,766 values.
    public static let maxNesting = 24
    public static let maxPredicates = 256
    public static let maxValues = 10_000

    public static func parse(_ text: String) throws -> CQL2Expression {
        guard text.utf8.count <= maxLength else {
            throw CQL2SyntaxError(message: "the filter is longer than \(maxLength) bytes", position: 1)
        }
        var parser = CQL2Parser(tokens: try Lexer(text).tokens())
        let expression = try parser.booleanExpression()
        guard case .end = parser.peek.kind else { throw parser.error("expected AND, OR or the end of the filter, found \(parser.peek.kind)") }
        return expression
    }

    var tokens: [Token]
    var index = 0
    var depth = 0
    var vertices = 0
    var predicates = 0
    var values = 0

    var peek: Token { tokens[index] }
    mutating func next() -> Token { defer { if index < tokens.count - 1 { index += 1 } }; return tokens[index] }
    func error(_ message: String, at token: Token? = nil) -> CQL2SyntaxError {
        CQL2SyntaxError(message: message, position: (token ?? peek).position)
    }

    func isKeyword(_ word: String, _ token: Token? = nil) -> Bool {
        if case .word(let w) = (token ?? peek).kind { return w.uppercased() == word }
        return false
    }
    mutating func accept(keyword: String) -> Bool {
        guard isKeyword(keyword) else { return false }
        _ = next()
        return true
    }
    mutating func expect(keyword: String) throws {
        guard accept(keyword: keyword) else { throw error("expected \(keyword), found \(peek.kind)") }
    }
    mutating func accept(_ kind: Token.Kind) -> Bool {
        guard peek.kind == kind else { return false }
        _ = next()
        return true
    }
    mutating func expect(_ kind: Token.Kind, _ what: String) throws {
        guard accept(kind) else { throw error("expected \(what), found \(peek.kind)") }
    }

    mutating func nested<T>(_ body: (inout CQL2Parser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("the filter nests deeper than \(Self.maxDepth) levels") }
        return try body(&self)
    }

    // MARK: Boolean structure

    mutating func booleanExpression() throws -> CQL2Expression {
        try nested { p in
            let start = p.peek
            var terms = [try p.andExpression()]
            while p.accept(keyword: "OR") { terms.append(try p.andExpression()) }
            return try p.bounded(terms.count == 1 ? terms[0] : .or(terms), from: start)
        }
    }

    mutating func andExpression() throws -> CQL2Expression {
        let start = peek
        var terms = [try notExpression()]
        while accept(keyword: "AND") { terms.append(try notExpression()) }
        return try bounded(terms.count == 1 ? terms[0] : .and(terms), from: start)
    }

    mutating func notExpression() throws -> CQL2Expression {
        let start = peek
        if accept(keyword: "NOT") { return try bounded(.not(try nested { try $0.notExpression() }), from: start) }
        return try predicate()
    }

    /// NOT, AND and OR inside one another, as the SQL nests them.
    static func nesting(_ e: CQL2Expression) -> Int {
        switch e {
        case .and(let terms), .or(let terms): return 1 + (terms.lazy.map(nesting).max() ?? 0)
        case .not(let inner): return 1 + nesting(inner)
        default: return 0
        }
    }

    func bounded(_ e: CQL2Expression, from start: Token) throws -> CQL2Expression {
        guard Self.nesting(e) <= Self.maxNesting else {
            throw error("NOT, AND and OR nest more than \(Self.maxNesting) deep here; simplify the filter (NOT NOT cancels out)", at: start)
        }
        return e
    }

    mutating func predicate() throws -> CQL2Expression {
        if accept(.leftParen) {
            let inner = try booleanExpression()
            try expect(.rightParen, "')'")
            return inner
        }
        predicates += 1
        guard predicates <= Self.maxPredicates else {
            throw error("the filter has more than \(Self.maxPredicates) conditions; combine values with IN (…) or ask in several requests")
        }
        if case .word(let w) = peek.kind, let op = CQL2Spatial(rawValue: w.uppercased()), tokens[index + 1].kind == .leftParen {
            _ = next(); _ = next()
            let a = try geometryOperand()
            try expect(.comma, "',' between the two geometries of \(op.rawValue)")
            let b = try geometryOperand()
            try expect(.rightParen, "')' closing \(op.rawValue)")
            return .spatial(op, a, b)
        }
        let start = peek
        let left = try scalar()
        // A lone TRUE or FALSE is a predicate of its own.
        if case .boolean(let b) = left, isPredicateEnd { return .literal(b) }
        if case .compare(let op) = peek.kind {
            _ = next()
            return .compare(op, left, try scalar())
        }
        let negated = accept(keyword: "NOT")
        if accept(keyword: "LIKE") {
            let token = peek
            guard case .string(let pattern) = next().kind else {
                throw error("LIKE needs a quoted pattern such as '0101%' (CASEI and ACCENTI are not supported)", at: token)
            }
            return .like(left, pattern: pattern, negated: negated)
        }
        if accept(keyword: "BETWEEN") {
            let low = try scalar()
            try expect(keyword: "AND")
            return .between(left, low, try scalar(), negated: negated)
        }
        if accept(keyword: "IN") {
            try expect(.leftParen, "'(' starting the IN list")
            var items = [try scalar()]
            while accept(.comma) { items.append(try scalar()) }
            try expect(.rightParen, "')' closing the IN list")
            return .inList(left, items, negated: negated)
        }
        if !negated && accept(keyword: "IS") {
            let not = accept(keyword: "NOT")
            try expect(keyword: "NULL")
            return .isNull(left, negated: not)
        }
        throw error("expected a comparison (=, <>, <, >, <=, >=), LIKE, BETWEEN, IN or IS NULL after \(start.kind)")
    }

    var isPredicateEnd: Bool {
        switch peek.kind {
        case .end, .rightParen: return true
        case .word: return isKeyword("AND") || isKeyword("OR")
        default: return false
        }
    }

    // MARK: Scalars

    mutating func scalar() throws -> CQL2Scalar {
        values += 1
        guard values <= Self.maxValues else { throw error("the filter has more than \(Self.maxValues) values and properties; ask in several requests") }
        let token = next()
        switch token.kind {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .minus:
            guard case .number(let n) = next().kind else { throw error("expected a number after '-'", at: token) }
            return .number(-n)
        case .quotedIdentifier(let name): return .property(name)
        case .word(let w):
            switch w.uppercased() {
            case "TRUE": return .boolean(true)
            case "FALSE": return .boolean(false)
            case "DATE", "TIMESTAMP":
                try expect(.leftParen, "'(' after \(w.uppercased())")
                let valueToken = peek
                guard case .string(let s) = next().kind else { throw error("\(w.uppercased()) needs a quoted value", at: valueToken) }
                try expect(.rightParen, "')'")
                let isDate = w.uppercased() == "DATE"
                guard isDate ? Self.isDate(s) : Self.isTimestamp(s) else {
                    throw error(isDate ? "'\(s)' is not a date (YYYY-MM-DD)" : "'\(s)' is not a timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)", at: valueToken)
                }
                return isDate ? .date(s) : .timestamp(s)
            case "NULL", "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS":
                throw error("expected a property name or a value, found \(w.uppercased())", at: token)
            default:
                if peek.kind == .leftParen {
                    throw error("unknown or unsupported function \(w)(): this server supports no functions in filters", at: token)
                }
                return .property(w)
            }
        default:
            throw error("expected a property name or a value, found \(token.kind)", at: token)
        }
    }

    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return false }
        return [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { (0x30...0x39).contains(b[$0]) }
    }

    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, isDate(String(decoding: b[0..<10], as: UTF8.self)), b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b.last == 0x5A else { return false }
        return [11, 12, 14, 15, 17, 18].allSatisfy { (0x30...0x39).contains(b[$0]) }
    }

    // MARK: Geometry literals (WKT, BBOX)

    mutating func geometryOperand() throws -> CQL2GeometryOperand {
        let token = peek
        switch token.kind {
        case .quotedIdentifier(let name):
            _ = next()
            return .property(name)
        case .word(let w):
            let tag = w.uppercased()
            if tag == "BBOX" || tag == "ENVELOPE" {
                _ = next()
                return .literal(try bbox(), isBox: true)
            }
            if ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"].contains(tag) {
                return .literal(try nested { try $0.wkt() }, isBox: false)
            }
            if tokens[index + 1].kind == .leftParen { throw error("unknown geometry type \(w)") }
            _ = next()
            return .property(w)
        default:
            throw error("expected a geometry (a WKT literal, BBOX(...) or the geometry property), found \(token.kind)")
        }
    }

    mutating func number() throws -> Double {
        let token = next()
        switch token.kind {
        case .number(let n): return n
        case .minus:
            guard case .number(let n) = next().kind else { throw error("expected a number after '-'", at: token) }
            return -n
        default: throw error("expected a number, found \(token.kind)", at: token)
        }
    }

    mutating func bbox() throws -> Geometry {
        try expect(.leftParen, "'(' after BBOX")
        var values = [try number()]
        while accept(.comma) { values.append(try number()) }
        try expect(.rightParen, "')' closing BBOX")
        guard values.count == 4 || values.count == 6 else { throw error("BBOX needs 4 numbers (or 6 with heights), found \(values.count)") }
        let (x0, y0, x1, y1) = values.count == 4 ? (values[0], values[1], values[2], values[3]) : (values[0], values[1], values[3], values[4])
        guard x0 <= x1, y0 <= y1 else { throw error("BBOX corners must be lower-left then upper-right") }
        return .polygon(Polygon([[Coordinate(x0, y0), Coordinate(x1, y0), Coordinate(x1, y1), Coordinate(x0, y1), Coordinate(x0, y0)]]))
    }

    mutating func wkt() throws -> Geometry {
        let token = next()
        guard case .word(let w) = token.kind else { throw error("expected a WKT geometry", at: token) }
        let tag = w.uppercased()
        // "POINT Z (...)": heights are read and dropped; OneMap is 2D.
        if isKeyword("Z") || isKeyword("M") || isKeyword("ZM") { _ = next() }
        if isKeyword("EMPTY") { throw error("empty geometries are not supported in filters") }
        switch tag {
        case "POINT":
            try expect(.leftParen, "'(' after POINT")
            let c = try position()
            try expect(.rightParen, "')' closing POINT")
            return .point(c)
        case "LINESTRING": return .lineString(try line())
        case "POLYGON": return .polygon(try polygon())
        case "MULTIPOINT":
            try expect(.leftParen, "'(' after MULTIPOINT")
            var points: [Coordinate] = []
            repeat {
                // Both MULTIPOINT((1 2), (3 4)) and the older MULTIPOINT(1 2, 3 4).
                if accept(.leftParen) {
                    points.append(try position())
                    try expect(.rightParen, "')'")
                } else {
                    points.append(try position())
                }
            } while accept(.comma)
            try expect(.rightParen, "')' closing MULTIPOINT")
            return .multiPoint(points)
        case "MULTILINESTRING":
            try expect(.leftParen, "'(' after MULTILINESTRING")
            var lines = [try line()]
            while accept(.comma) { lines.append(try line()) }
            try expect(.rightParen, "')' closing MULTILINESTRING")
            return .multiLineString(lines)
        case "MULTIPOLYGON":
            try expect(.leftParen, "'(' after MULTIPOLYGON")
            var polygons = [try polygon()]
            while accept(.comma) { polygons.append(try polygon()) }
            try expect(.rightParen, "')' closing MULTIPOLYGON")
            return .multiPolygon(polygons)
        case "GEOMETRYCOLLECTION":
            try expect(.leftParen, "'(' after GEOMETRYCOLLECTION")
            var parts = [try nested { try $0.wkt() }]
            while accept(.comma) { parts.append(try nested { try $0.wkt() }) }
            try expect(.rightParen, "')' closing GEOMETRYCOLLECTION")
            return .collection(parts)
        default:
            throw error("unknown geometry type \(w)", at: token)
        }
    }

    mutating func position() throws -> Coordinate {
        let x = try number(), y = try number()
        if case .number = peek.kind { _ = try number() }   // a height, dropped
        else if case .minus = peek.kind { _ = try number() }
        vertices += 1
        guard vertices <= Self.maxVertices else { throw error("geometry literals have more than \(Self.maxVertices) vertices") }
        guard x.isFinite, y.isFinite else { throw error("coordinates must be finite numbers") }
        return Coordinate(x, y)
    }

    mutating func line() throws -> [Coordinate] {
        let start = peek
        try expect(.leftParen, "'(' starting a coordinate list")
        var coords = [try position()]
        while accept(.comma) { coords.append(try position()) }
        try expect(.rightParen, "')' closing a coordinate list")
        guard coords.count >= 2 else { throw error("a line needs at least 2 positions", at: start) }
        return coords
    }

    mutating func polygon() throws -> Polygon {
        try expect(.leftParen, "'(' starting a polygon")
        var rings: [[Coordinate]] = []
        repeat {
            let start = peek
            let ring = try line()
            guard ring.count >= 4 else { throw error("a polygon ring needs at least 4 positions, this one has \(ring.count)", at: start) }
            guard ring.first == ring.last else { throw error("the polygon ring is not closed (its first and last positions differ)", at: start) }
            rings.append(ring)
        } while accept(.comma)
        try expect(.rightParen, "')' closing a polygon")
        return Polygon(rings)
    }
}

// MARK: Tokens

struct Token {
    enum Kind: Equatable, CustomStringConvertible {
        case word(String)
        case quotedIdentifier(String)
        case string(String)
        case number(Double)
        case compare(CQL2Comparison)
        case leftParen, rightParen, comma, minus
        case end

        var description: String {
            switch self {
            case .word(let w): return w
            case .quotedIdentifier(let w): return "\"\(w)\""
            case .string(let s): return "'\(s.count > 40 ? String(s.prefix(37)) + "..." : s)'"
            case .number(let n): return String(n)
            case .compare(let op): return "'\(op.rawValue)'"
            case .leftParen: return "'('"
            case .rightParen: return "')'"
            case .comma: return "','"
            case .minus: return "'-'"
            case .end: return "the end of the filter"
            }
        }
    }
    let kind: Kind
    /// 1-based character position in the filter.
    let position: Int
}

struct Lexer {
    let chars: [Character]
    init(_ text: String) { chars = Array(text) }

    func error(_ message: String, _ at: Int) -> CQL2SyntaxError { CQL2SyntaxError(message: message, position: at + 1) }

    static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c == ":" || c.isLetter }
    static func isIdentifierPart(_ c: Character) -> Bool { isIdentifierStart(c) || c == "." || c.isNumber }

    func tokens() throws -> [Token] {
        var out: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            switch c {
            case "(": out.append(Token(kind: .leftParen, position: start + 1)); i += 1
            case ")": out.append(Token(kind: .rightParen, position: start + 1)); i += 1
            case ",": out.append(Token(kind: .comma, position: start + 1)); i += 1
            case "=": out.append(Token(kind: .compare(.equal), position: start + 1)); i += 1
            case "<":
                if i + 1 < chars.count, chars[i + 1] == "=" { out.append(Token(kind: .compare(.lessOrEqual), position: start + 1)); i += 2 }
                else if i + 1 < chars.count, chars[i + 1] == ">" { out.append(Token(kind: .compare(.notEqual), position: start + 1)); i += 2 }
                else { out.append(Token(kind: .compare(.less), position: start + 1)); i += 1 }
            case ">":
                if i + 1 < chars.count, chars[i + 1] == "=" { out.append(Token(kind: .compare(.greaterOrEqual), position: start + 1)); i += 2 }
                else { out.append(Token(kind: .compare(.greater), position: start + 1)); i += 1 }
            case "-": out.append(Token(kind: .minus, position: start + 1)); i += 1
            case "+": i += 1   // a unary plus changes nothing
            case "'":
                var s = ""
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "'" {
                        if i + 1 < chars.count, chars[i + 1] == "'" { s.append("'"); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    s.append(chars[i])
                    i += 1
                }
                guard closed else { throw error("the string starting here is not closed with '", start) }
                out.append(Token(kind: .string(s), position: start + 1))
            case "\"":
                var s = ""
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\"" { closed = true; i += 1; break }
                    s.append(chars[i])
                    i += 1
                }
                guard closed, !s.isEmpty else { throw error("a quoted property name must be closed with \" and not empty", start) }
                out.append(Token(kind: .quotedIdentifier(s), position: start + 1))
            default:
                if c.isASCII && (c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber)) {
                    var s = ""
                    while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." { s.append(chars[i]); i += 1 }
                    if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                        s.append("e")
                        i += 1
                        if i < chars.count, chars[i] == "+" || chars[i] == "-" { s.append(chars[i]); i += 1 }
                        while i < chars.count, chars[i].isASCII, chars[i].isNumber { s.append(chars[i]); i += 1 }
                    }
                    guard let n = Double(s), n.isFinite else { throw error("'\(s)' is not a number", start) }
                    if i < chars.count, Self.isIdentifierStart(chars[i]) { throw error("a number runs into a name here; separate them with a space", i) }
                    out.append(Token(kind: .number(n), position: start + 1))
                } else if Self.isIdentifierStart(c) {
                    var s = ""
                    while i < chars.count, Self.isIdentifierPart(chars[i]) { s.append(chars[i]); i += 1 }
                    out.append(Token(kind: .word(s), position: start + 1))
                } else {
                    throw error("unexpected character '\(c)'", start)
                }
            }
        }
        out.append(Token(kind: .end, position: chars.count + 1))
        return out
    }
}
