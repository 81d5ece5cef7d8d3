import GeoCore

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

    public static func parse(_ text: String) throws -> CQL2Expression { try parseFilter(text).expression }

    /// The expression with where its predicates and properties were written.
    public static func parseFilter(_ text: String) throws -> CQL2Filter {
        guard text.utf8.count <= maxLength else {
            throw CQL2SyntaxError(message: "the filter is longer than \(maxLength) bytes", position: 1)
        }
        var parser = CQL2Parser(tokens: try Lexer(text).tokens())
        let expression = try parser.booleanExpression()
        guard case .end = parser.peek.kind else {
            throw parser.error("expected AND, OR or the end of the filter, found \(parser.peek.kind)")
        }
        return CQL2Filter(expression, predicatePositions: parser.predicatePositions, propertyPositions: parser.propertyPositions)
    }

    mutating func noteProperty(_ name: String, at token: Token) {
        if propertyPositions[name] == nil { propertyPositions[name] = token.position }
    }

    var tokens: [Token]
    var index = 0
    var depth = 0
    var vertices = 0
    var predicates = 0
    var values = 0
    var predicatePositions: [Int] = []
    var propertyPositions: [String: Int] = [:]

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

    /// A parenthesis opens either a boolean group, `(a = 1 OR b = 2)`, or an arithmetic one,
    /// `(a + 1) > 2`: the group is tried first, and the other reading when the group fails or
    /// an operator follows it. Of two failures, the one that read further says more.
    mutating func predicate() throws -> CQL2Expression {
        guard peek.kind == .leftParen else { return try comparison() }
        let saved = self
        let groupError: CQL2SyntaxError
        do {
            _ = next()
            let inner = try booleanExpression()
            try expect(.rightParen, "')'")
            if !continuesScalar { return inner }
            groupError = error("expected AND, OR or ')' after the group, found \(peek.kind)")
        } catch let e as CQL2SyntaxError {
            groupError = e
        }
        self = saved
        do { return try comparison() } catch let e as CQL2SyntaxError {
            throw e.position >= groupError.position ? e : groupError
        }
    }

    /// After a closing parenthesis: an operator that makes the group a value, not a condition.
    var continuesScalar: Bool {
        switch peek.kind {
        case .arithmetic, .minus, .compare: return true
        default: return ["LIKE", "BETWEEN", "IN", "IS", "NOT", "DIV"].contains { isKeyword($0) }
        }
    }

    /// One condition: a spatial function, a comparison, LIKE, BETWEEN, IN, IS NULL or a lone boolean.
    mutating func comparison() throws -> CQL2Expression {
        predicates += 1
        guard predicates <= Self.maxPredicates else {
            throw error("the filter has more than \(Self.maxPredicates) conditions; combine values with IN (…) or ask in several requests")
        }
        let start = peek
        predicatePositions.append(start.position)
        if case .word(let w) = peek.kind, let op = CQL2Spatial(rawValue: w.uppercased()), tokens[index + 1].kind == .leftParen {
            _ = next(); _ = next()
            let a = try geometryOperand()
            try expect(.comma, "',' between the two geometries of \(op.rawValue)")
            let b = try geometryOperand()
            try expect(.rightParen, "')' closing \(op.rawValue)")
            return .spatial(op, a, b)
        }
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
            let pattern = try scalar()
            guard Self.isPattern(pattern) else {
                throw error("LIKE needs a quoted pattern such as '0101%', or one inside CASEI(…) or ACCENTI(…)", at: token)
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
        throw error("expected a comparison (=, <>, <, >, <=, >=), an arithmetic operator, LIKE, BETWEEN, IN or IS NULL after \(start.kind)")
    }

    /// What CQL2 takes as a LIKE pattern: a string, possibly inside CASEI or ACCENTI.
    static func isPattern(_ s: CQL2Scalar) -> Bool {
        switch s {
        case .string: return true
        case .casei(let inner), .accenti(let inner): return isPattern(inner)
        default: return false
        }
    }

    var isPredicateEnd: Bool {
        switch peek.kind {
        case .end, .rightParen: return true
        case .word: return isKeyword("AND") || isKeyword("OR")
        default: return false
        }
    }

    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return false }
        return [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { (0x30...0x39).contains(b[$0]) }
    }

    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, isDate(String(decoding: b[0..<10], as: UTF8.self)), b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b.last == 0x5A
        else { return false }
        return [11, 12, 14, 15, 17, 18].allSatisfy { (0x30...0x39).contains(b[$0]) }
    }
}
